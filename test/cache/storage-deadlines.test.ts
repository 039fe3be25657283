/**
 * Every storage call has a real deadline (KEYWARD_MONGODB_TIMEOUT_MS), tested
 * as a hung server happens in production: the MongoDB-compatible server's
 * process is stopped (SIGSTOP), its sockets open and silent, then resumed.
 * A private FerretDB, so no other test sees the hang.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { generateKey } from "../../src/domain/key-format.js";
import { startFerretDb } from "../setup/servers.js";
import type { FerretDbServer } from "../setup/servers.js";
import { eventually } from "../support/eventually.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";
import { startTestKeyward } from "../support/keyward.js";
import type { Clients, TestKeyward } from "../support/keyward.js";

const DEADLINE_MS = 500;
/** Timer and event-loop slack on a loaded 2-core machine. */
const SLACK_MS = 250;

let ferret: FerretDbServer;
let service: TestKeyward;
let clients: Clients;

beforeAll(async () => {
  ferret = await startFerretDb();
  service = await startTestKeyward({
    env: {
      MONGODB_URI: ferret.uri,
      KEYWARD_MONGODB_TIMEOUT_MS: String(DEADLINE_MS),
      KEYWARD_USAGE_FLUSH_MS: "3600000",
      KEYWARD_SHUTDOWN_GRACE_MS: "500",
    },
  });
  clients = service.clients("grpc");
});
afterAll(async () => {
  if (ferret) process.kill(ferret.pid, "SIGCONT");
  await service?.stop();
  await ferret?.stop({ removeDir: true });
});

/** How long `call` took to fail, and with which RPC code. */
async function failure(call: () => Promise<unknown>): Promise<{ ms: number; code: Code | undefined }> {
  const started = performance.now();
  try {
    await call();
  } catch (error) {
    return { ms: performance.now() - started, code: ConnectError.from(error).code };
  }
  throw new Error("the call succeeded against a hung store");
}

describe("a hung MongoDB (SIGSTOP)", () => {
  it("fails every kind of storage call within the deadline, then recovers when resumed", async () => {
    const org = await newOrganization(clients);
    const known = await newKey(clients, org);
    expect((await clients.auth.verify({ headers: bearer(known.key) })).code).toBe(VerifyCode.OK);
    const readyz = `${service.keyward.server.httpUrl}/readyz`;

    process.kill(ferret.pid, "SIGSTOP");
    try {
      const calls: Record<string, () => Promise<unknown>> = {
        "Verify, cache miss": () => clients.auth.verify({ headers: bearer(generateKey("live").plaintext) }),
        "CreateApiKey (a write)": () => clients.apiKeys.createApiKey({ organizationId: org, name: "during the hang" }),
        "RevokeApiKey (a write)": () => clients.apiKeys.revokeApiKey({ organizationId: org, id: known.id }),
        "GetApiKey (a read)": () => clients.apiKeys.getApiKey({ organizationId: org, id: known.id }),
        "ListApiKeys (a cursor)": () => clients.apiKeys.listApiKeys({ organizationId: org }),
        "UpsertOrganization": () => clients.organizations.upsertOrganization({ organization: { id: org, workspaces: [] } }),
      };
      for (const [name, call] of Object.entries(calls)) {
        const { ms, code } = await failure(call);
        expect(code, name).toBe(Code.Unavailable);
        expect(ms, name).toBeLessThan(DEADLINE_MS + SLACK_MS);
        expect(ms, name).toBeGreaterThanOrEqual(DEADLINE_MS - 5); // the deadline, not an instant refusal
      }
      const started = performance.now();
      const ready = await fetch(readyz);
      expect(ready.status).toBe(503);
      expect(performance.now() - started).toBeLessThan(DEADLINE_MS + SLACK_MS);
      // A cached key keeps verifying meanwhile.
      expect((await clients.auth.verify({ headers: bearer(known.key) })).code).toBe(VerifyCode.OK);
    } finally {
      process.kill(ferret.pid, "SIGCONT");
    }

    await eventually(async () => (await fetch(readyz)).status === 200);
    const listed = (await clients.apiKeys.listApiKeys({ organizationId: org })).apiKeys;
    // The writes the caller was told failed were single-document writes: each
    // is now applied whole or not at all, never in part.
    const created = listed.filter((k) => k.name === "during the hang");
    expect(created.length).toBeLessThanOrEqual(1);
    for (const key of created) expect(key).toMatchObject({ organizationId: org, active: true, hint: expect.stringMatching(/^sk_live_/) });
    const original = listed.find((k) => k.id === known.id);
    expect(original?.revokedAt === undefined).toBe(original?.active === true);
    const fresh = await newKey(clients, org);
    expect((await clients.auth.verify({ headers: bearer(fresh.key) })).code).toBe(VerifyCode.OK);
  });
});

/** Holds SQLite's write lock on a FerretDB database file (python3's sqlite3), until released. */
async function lockDatabase(file: string): Promise<{ release(): Promise<void> }> {
  const child = spawn("python3", ["-c", [
    "import sqlite3, sys",
    "db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)",
    "db.execute('BEGIN IMMEDIATE')",
    "print('locked', flush=True)",
    "sys.stdin.read()",
  ].join("\n"), file], { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`the lock holder exited with ${String(code)}`)));
  });
  return {
    release: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.stdin.end();
      }),
  };
}

describe("a locked MongoDB-compatible store (pings answer, writes wait on a lock)", () => {
  it("fails writes within the deadline while reads and cached keys go on, and writes again once the lock is gone", async () => {
    const org = await newOrganization(clients);
    const known = await newKey(clients, org);
    expect((await clients.auth.verify({ headers: bearer(known.key) })).code).toBe(VerifyCode.OK);
    const lock = await lockDatabase(path.join(ferret.dir, `${service.database}.sqlite`));
    try {
      for (const [name, call] of Object.entries({
        "CreateApiKey": () => clients.apiKeys.createApiKey({ organizationId: org, name: "during the lock" }),
        "RevokeApiKey": () => clients.apiKeys.revokeApiKey({ organizationId: org, id: known.id }),
      })) {
        const { ms, code } = await failure(call);
        expect(code, name).toBe(Code.Unavailable);
        expect(ms, name).toBeLessThan(DEADLINE_MS + SLACK_MS);
      }
      expect((await clients.apiKeys.getApiKey({ organizationId: org, id: known.id })).apiKey?.active).toBe(true);
      expect((await clients.auth.verify({ headers: bearer(known.key) })).code).toBe(VerifyCode.OK);
    } finally {
      await lock.release();
    }
    await eventually(async () => {
      try {
        await newKey(clients, org);
        return true;
      } catch {
        return false;
      }
    });
  });
});

