/**
 * Exactness across replicas: three real service processes (`node --import
 * tsx src/main.ts`) share one Redis and one MongoDB; hundreds of concurrent
 * Verify calls for one organization, split across them, are allowed exactly
 * `limit` times.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { REPO_ROOT } from "../setup/servers.js";
import { clientsFor } from "../support/keyward.js";
import type { Clients } from "../support/keyward.js";
import { bearer, metricValue, organizationWithPlan } from "./support.js";

interface Replica {
  child: ChildProcess;
  rpcUrl: string;
  httpUrl: string;
  clients: Clients;
}

const REPLICAS = 3;
const children = new Set<ChildProcess>();
// Last resort should the worker end without afterAll.
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** Starts one service process on free ports; resolves once it logs where it listens. */
function startReplica(database: string): Promise<Replica> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      KEYWARD_HOST: "127.0.0.1",
      KEYWARD_RPC_PORT: "0",
      KEYWARD_HTTP_PORT: "0",
      KEYWARD_LOG_LEVEL: "info",
      MONGODB_URI: inject("mongoUri"),
      KEYWARD_MONGODB_DATABASE: database,
      REDIS_URL: inject("redisUrl"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`replica exited with ${String(code)} before listening:\n${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      const entry = JSON.parse(line) as { msg?: string; rpc?: string; http?: string };
      if (entry.msg === "keyward listening" && entry.rpc && entry.http) {
        resolve({ child, rpcUrl: entry.rpc, httpUrl: entry.http, clients: clientsFor(entry.rpc, "grpc") });
      }
    });
  });
}

async function stopReplica(replica: Replica): Promise<void> {
  if (replica.child.exitCode !== null || replica.child.signalCode !== null) return;
  const exited = new Promise((resolve) => replica.child.once("exit", resolve));
  replica.child.kill("SIGTERM");
  await exited;
}

let replicas: Replica[] = [];
beforeAll(async () => {
  const database = `kw_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const started = await Promise.allSettled(Array.from({ length: REPLICAS }, () => startReplica(database)));
  replicas = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
});
afterAll(async () => {
  await Promise.all(replicas.map(stopReplica));
});

describe(`${REPLICAS} service processes on one Redis`, () => {
  it("allow exactly the organization's limit, however the calls are spread", async () => {
    const [first] = replicas;
    if (!first) throw new Error("no replica started");
    const org = await organizationWithPlan(first.clients, 150, 3_600_000);
    // One key per replica: the organization's keys share its pool.
    const keys = await Promise.all(replicas.map(() => org.newKey()));

    const verdicts = await Promise.all(
      Array.from({ length: 400 }, (_, i) => {
        const replica = replicas[i % replicas.length]!;
        return replica.clients.auth.verify({ headers: bearer(keys[i % keys.length]!) });
      }),
    );

    const allowed = verdicts.filter((v) => v.allowed);
    expect(allowed).toHaveLength(150);
    expect(verdicts.filter((v) => v.code === VerifyCode.RATE_LIMITED)).toHaveLength(250);
    expect(verdicts.filter((v) => !v.allowed).every((v) => v.http?.status === 429)).toBe(true);
    // Every allowed call saw a different "remaining": one shared, exact count.
    expect(new Set(allowed.map((v) => v.rateLimit?.remaining)).size).toBe(150);
    // Redis decided every call; no replica fell back to its own count.
    for (const replica of replicas) {
      expect(await metricValue(replica.httpUrl, "keyward_rate_limiter_fallback_total")).toBe(0);
    }
  });
});
