/**
 * The operator CLI as an operator runs it: the real process against the
 * real service (FerretDB), every management command, its help and its
 * mistakes. Verdicts through the service show each command took effect.
 */
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { REPO_ROOT } from "../setup/servers.js";
import { eventually } from "../support/eventually.js";
import { bearer } from "../support/fixtures.js";
import { startTestKeyward } from "../support/keyward.js";
import type { Clients, TestKeyward } from "../support/keyward.js";

const token = randomBytes(24).toString("base64url");
let service: TestKeyward;
let clients: Clients;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "", KEYWARD_RPC_URL: service.keyward.server.rpcUrl, KEYWARD_SERVICE_TOKEN: token },
      timeout: 15_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

/** Runs a command that must succeed, answering its JSON. */
async function ok(...args: string[]): Promise<Record<string, any>> {
  const result = await cli(...args);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, any>;
}

const verify = (key: string) => clients.auth.verify({ headers: bearer(key), requiredScope: "send" });

beforeAll(async () => {
  service = await startTestKeyward({ env: { KEYWARD_INTERNAL_TOKENS: token, KEYWARD_USAGE_FLUSH_MS: "100" } });
  clients = service.clients("grpc", token);
});
afterAll(async () => {
  await service.stop();
});

describe("help", () => {
  it("lists every command and exits 0", async () => {
    for (const args of [["help"], ["--help"], []]) {
      const result = await cli(...args);
      expect(result.code).toBe(0);
      for (const name of ["create-key", "get-key", "list-keys", "update-key", "enable-key", "disable-key", "roll-key", "revoke-key",
        "usage", "upsert-organization", "get-organization", "suspend-organization", "resume-organization", "audit"]) {
        expect(result.stdout).toContain(`  ${name} `);
      }
    }
  });

  it("explains one command with help <command> or --help", async () => {
    for (const args of [["help", "roll-key"], ["roll-key", "--help"]]) {
      const result = await cli(...args);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^usage: npm run cli -- roll-key --organization ID --id KEY_ID \[--grace/);
    }
  });

  it.each([
    [["create-key", "--organizaton", "acme"], /^keyward: Unknown option '--organizaton' \(npm run cli -- help create-key\)$/],
    [["frobnicate"], /^keyward: unknown command "frobnicate"/],
    [["help", "frobnicate"], /^keyward: unknown command "frobnicate"/],
    [["create-key", "--name", "x"], /^keyward: --organization is required/],
    [["create-key", "--organization", "acme", "--name", "x", "--mode", "staging"], /^keyward: --mode must be one of live, test/],
    [["roll-key", "--organization", "acme", "--id", "x", "--grace", "forever"], /^keyward: --grace must be a duration/],
    [["create-key", "--organization", "acme", "--name", "x", "--expires-at", "tomorrow"], /^keyward: --expires-at must be an ISO 8601/],
    [["list-keys", "--organization", "acme", "stray"], /^keyward: Unexpected argument 'stray'/],
    [["create-key", "--organization", "acme", "--name", "x", "--refill", "daily:10"], /^keyward: --refill needs --credits/],
    [["create-key", "--organization", "acme", "--name", "x", "--credits", "lots"], /^keyward: --credits must be a whole number/],
    [["create-key", "--organization", "acme", "--name", "x", "--credits", "5", "--refill", "weekly:5"], /^keyward: --refill must be daily:AMOUNT or monthly:AMOUNT/],
    [["update-key", "--organization", "acme", "--id", "x", "--credits", "unlimited", "--refill", "daily:1"], /^keyward: --refill needs a number of --credits/],
    [["usage", "--organization", "acme", "--id", "x", "--granularity", "week"], /^keyward: --granularity must be one of hour, day/],
  ])("answers %j with one line and exit code 2", async (args, message) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
  });
});

describe("every management action", () => {
  it("runs a key's whole life, each step visible in Verify", async () => {
    const org = randomUUID();
    const upserted = await ok("upsert-organization", "--id", org, "--workspaces", "ws-1,ws-2", "--rate-limit", "1000/1m");
    expect(upserted).toMatchObject({ id: org, status: "ORGANIZATION_STATUS_ACTIVE", workspaces: ["ws-1", "ws-2"], rateLimit: { limit: 1000, window: "60s" } });
    expect(await ok("get-organization", "--id", org)).toEqual(upserted);

    const created = await ok("create-key", "--organization", org, "--name", "Ops key", "--scopes", "send,read",
      "--metadata", "team=ops,tier=gold", "--expires-at", "2099-01-01T00:00:00Z", "--mode", "test");
    expect(created.key).toMatch(/^sk_test_/);
    expect(created.apiKey).toMatchObject({ organizationId: org, name: "Ops key", scopes: ["send", "read"], metadata: { team: "ops", tier: "gold" },
      mode: "MODE_TEST", active: true, enabled: true, expiresAt: "2099-01-01T00:00:00Z" });
    const id = created.apiKey.id as string;
    expect((await verify(created.key)).code).toBe(VerifyCode.OK);

    // The same record (last_used_at may have been written meanwhile, in its batch).
    const { lastUsedAt: _used, ...got } = await ok("get-key", "--organization", org, "--id", id);
    const { lastUsedAt: _none, ...issued } = created.apiKey as Record<string, unknown>;
    expect(got).toEqual(issued);
    const listed = await ok("list-keys", "--organization", org, "--mode", "test", "--active", "true");
    expect(listed.apiKeys.map((k: { id: string }) => k.id)).toEqual([id]);
    expect(JSON.stringify(listed)).not.toContain(created.key);

    const updated = await ok("update-key", "--organization", org, "--id", id, "--name", "Renamed", "--scopes", "read");
    expect(updated).toMatchObject({ name: "Renamed", scopes: ["read"], metadata: { team: "ops", tier: "gold" } });
    expect((await verify(created.key)).code).toBe(VerifyCode.INSUFFICIENT_SCOPE);
    expect((await ok("update-key", "--organization", org, "--id", id, "--scopes", "")).scopes).toEqual([]);

    expect((await ok("disable-key", "--organization", org, "--id", id)).enabled).toBe(false);
    expect((await verify(created.key)).code).toBe(VerifyCode.KEY_DISABLED);
    expect((await ok("enable-key", "--organization", org, "--id", id)).enabled).toBe(true);
    expect((await verify(created.key)).code).toBe(VerifyCode.OK);

    const rolled = await ok("roll-key", "--organization", org, "--id", id, "--grace", "1h");
    expect(rolled.key).toMatch(/^sk_test_/);
    expect(rolled.key).not.toBe(created.key);
    expect((await verify(rolled.key)).code).toBe(VerifyCode.OK);
    expect((await verify(created.key)).code).toBe(VerifyCode.OK); // within its grace period

    const suspended = await ok("suspend-organization", "--id", org);
    expect(suspended.status).toBe("ORGANIZATION_STATUS_SUSPENDED");
    expect((await verify(rolled.key)).code).toBe(VerifyCode.ORGANIZATION_SUSPENDED);
    expect((await ok("resume-organization", "--id", org)).status).toBe("ORGANIZATION_STATUS_ACTIVE");
    expect((await verify(rolled.key)).code).toBe(VerifyCode.OK);

    const revoked = await ok("revoke-key", "--organization", org, "--id", id);
    expect(revoked.active).toBe(false); // shown, not left out as a default
    expect(revoked.revokedAt).toMatch(/^\d{4}-/);
    expect((await verify(rolled.key)).code).toBe(VerifyCode.KEY_REVOKED);

    // Every step above is in the audit trail, newest first, acted by the service token.
    const trail = await ok("audit", "--organization", org);
    expect(trail.events.map((e: { action: string }) => e.action)).toEqual([
      "api_key.revoke", "organization.resume", "organization.suspend", "api_key.roll", "api_key.enable", "api_key.disable",
      "api_key.update", "api_key.update", "api_key.create", "organization.upsert",
    ]);
    expect(trail.events.every((e: { actor: { type: string }; outcome: string }) =>
      e.actor.type === "ACTOR_TYPE_SERVICE" && e.outcome === "AUDIT_OUTCOME_ALLOWED")).toBe(true);
    const rolls = await ok("audit", "--organization", org, "--action", "api_key.roll", "--target", id);
    expect(rolls.events).toHaveLength(1);
    expect(JSON.stringify(trail)).not.toContain(rolled.key);
    expect(JSON.stringify(trail)).not.toContain(created.key);
  });

  it("sets IP allowlists and credits, and reads a key's usage", async () => {
    const org = randomUUID();
    const created = await ok("create-key", "--organization", org, "--name", "Fenced", "--ip-allowlist", "10.1.2.3/8,2001:db8::/32",
      "--credits", "2", "--refill", "daily:100", "--metadata", "team=ops");
    expect(created.apiKey).toMatchObject({
      ipAllowlist: ["10.0.0.0/8", "2001:db8::/32"],
      credits: { remaining: "2", refill: { interval: "REFILL_INTERVAL_DAILY", amount: "100" } },
    });
    const id = created.apiKey.id as string;
    const from = (clientIp: string) => clients.auth.verify({ headers: bearer(created.key), clientIp });
    const allowed = await from("10.0.0.1");
    expect(allowed).toMatchObject({ code: VerifyCode.OK, creditsRemaining: 1n, metadata: { team: "ops" } });
    expect((await from("192.0.2.1")).code).toBe(VerifyCode.IP_NOT_ALLOWED);

    const updated = await ok("update-key", "--organization", org, "--id", id, "--ip-allowlist", "", "--credits", "0");
    expect(updated).toMatchObject({ ipAllowlist: [], credits: { remaining: "0" } });
    expect((await from("192.0.2.1")).code).toBe(VerifyCode.USAGE_EXCEEDED);
    const unlimited = await ok("update-key", "--organization", org, "--id", id, "--credits", "unlimited");
    expect(unlimited.credits).toBeUndefined();
    expect((await from("192.0.2.1")).code).toBe(VerifyCode.OK);
    const invalid = await cli("update-key", "--organization", org, "--id", id, "--ip-allowlist", "10.0.0.300");
    expect(invalid.code).toBe(1);
    expect(invalid.stderr.trim()).toBe('keyward: InvalidArgument: ip_allowlist: "10.0.0.300" is not an IPv4 or IPv6 address or CIDR');

    // Counts reach storage in batches (every 100 ms here).
    const counted = async () => (await clients.apiKeys.getApiKeyUsage({ organizationId: org, id })).buckets.some((b) => b.allowed === 2n);
    await eventually(counted);
    const usage = await ok("usage", "--organization", org, "--id", id);
    expect(usage.buckets).toHaveLength(25);
    expect(usage.buckets.filter((b: { allowed: string }) => b.allowed !== "0")).toEqual([
      expect.objectContaining({ allowed: "2", denied: "2", deniedByCode: { IP_NOT_ALLOWED: "1", USAGE_EXCEEDED: "1" } }),
    ]);
    const days = await ok("usage", "--organization", org, "--id", id, "--granularity", "day", "--start", "2030-01-01T00:00:00Z", "--end", "2030-01-03T00:00:00Z");
    expect(days.buckets).toEqual([
      { start: "2030-01-01T00:00:00Z", allowed: "0", denied: "0", deniedByCode: {} },
      { start: "2030-01-02T00:00:00Z", allowed: "0", denied: "0", deniedByCode: {} },
    ]);
    const missing = await cli("usage", "--organization", randomUUID(), "--id", id);
    expect(missing.stderr.trim()).toMatch(/^keyward: NotFound: /);
  });

  it("prints the service's refusal as one line, exit code 1", async () => {
    const result = await cli("get-key", "--organization", randomUUID(), "--id", randomUUID());
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^keyward: NotFound: /);
    const denied = await cli("get-organization", "--id", "x", "--token", "not-the-token-at-all");
    expect(denied.code).toBe(1);
    expect(denied.stderr.trim()).toBe("keyward: Unauthenticated: a valid service token is required");
  });
});
