/**
 * What production refuses, and how a start that cannot succeed ends: one line
 * naming the variable to fix, exit code 2, never a stack trace or a secret.
 * Each case spawns the real process.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { runUntilExit, startReplica } from "../support/replicas.js";
import type { Replica } from "../support/replicas.js";

const GOOD_TOKEN = randomBytes(30).toString("base64url"); // 40 characters
const PRODUCTION = { KEYWARD_ENV: "production", KEYWARD_HOST: "127.0.0.1", KEYWARD_RPC_PORT: "0", KEYWARD_HTTP_PORT: "0" };

function expectOneLine(result: { code: number; stderr: string }, pattern: RegExp): void {
  expect(result.code).toBe(2);
  const lines = result.stderr.trim().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("production refuses unsafe settings", () => {
  it("without MONGODB_URI: the embedded store is for development only", async () => {
    const result = await runUntilExit({ ...PRODUCTION, KEYWARD_INTERNAL_TOKENS: GOOD_TOKEN });
    expectOneLine(result, /^keyward: invalid configuration: MONGODB_URI: required in production/);
  });

  it("with a service token shorter than 32 characters, never echoing it", async () => {
    const short = "s".repeat(31);
    const result = await runUntilExit({ ...PRODUCTION, MONGODB_URI: inject("mongoUri"), KEYWARD_INTERNAL_TOKENS: `${GOOD_TOKEN},${short}` });
    expectOneLine(result, /^keyward: invalid configuration: KEYWARD_INTERNAL_TOKENS: each token must be at least 32 characters/);
    expect(result.stderr).not.toContain(short);
  });

  it("with the placeholder token the compose file once carried", async () => {
    const placeholder = "change-me-to-a-long-random-token"; // 32 characters: long enough, still public
    const result = await runUntilExit({ ...PRODUCTION, MONGODB_URI: inject("mongoUri"), KEYWARD_INTERNAL_TOKENS: placeholder });
    expectOneLine(result, /^keyward: invalid configuration: KEYWARD_INTERNAL_TOKENS: holds a placeholder token/);
    expect(result.stderr).not.toContain(placeholder);
  });

  it("with MongoDB unreachable at start-up: one line naming the host, not the credentials", async () => {
    const port = await closedPort();
    const result = await runUntilExit({
      ...PRODUCTION,
      KEYWARD_INTERNAL_TOKENS: GOOD_TOKEN,
      MONGODB_URI: `mongodb://operator:pa55word@127.0.0.1:${port}/keyward`,
      KEYWARD_MONGODB_TIMEOUT_MS: "500",
    });
    expectOneLine(result, new RegExp(`^keyward: cannot start: MONGODB_URI: MongoDB at 127\\.0\\.0\\.1:${port} did not answer within 500 ms`));
    expect(result.stderr).not.toContain("pa55word");
  });
});

describe("start-up failures an operator can fix", () => {
  const running: Replica[] = [];
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop()));
  });

  it("names the port that is in use", async () => {
    const first = await startReplica({});
    running.push(first);
    const rpcPort = new URL(first.rpcUrl).port;
    const httpPort = new URL(first.httpUrl).port;
    expectOneLine(
      await runUntilExit({ KEYWARD_HOST: "127.0.0.1", KEYWARD_RPC_PORT: rpcPort, KEYWARD_HTTP_PORT: "0" }),
      new RegExp(`^keyward: cannot start: KEYWARD_RPC_PORT: 127\\.0\\.0\\.1:${rpcPort} is in use$`),
    );
    expectOneLine(
      await runUntilExit({ KEYWARD_HOST: "127.0.0.1", KEYWARD_RPC_PORT: "0", KEYWARD_HTTP_PORT: httpPort }),
      new RegExp(`^keyward: cannot start: KEYWARD_HTTP_PORT: 127\\.0\\.0\\.1:${httpPort} is in use$`),
    );
  });

  it("refuses equal ports before binding anything", async () => {
    expectOneLine(
      await runUntilExit({ KEYWARD_RPC_PORT: "50999", KEYWARD_HTTP_PORT: "50999" }),
      /^keyward: invalid configuration: KEYWARD_HTTP_PORT: must differ from KEYWARD_RPC_PORT \(both 50999\)$/,
    );
  });

  it("warns about each misspelled KEYWARD_* variable, naming the closest known one, and starts", async () => {
    const replica = await startReplica({ KEYWARD_LOG_LEVL: "debug", KEYWARD_RATE_LIMIT_FAIL_CLOSE: "true", KEYWARD_SOMETHING_ELSE_ENTIRELY: "1" });
    running.push(replica);
    const warnings = replica.logs.filter((l) => String(l.msg).startsWith("unknown variable")).map((l) => l.msg);
    expect(warnings).toEqual([
      "unknown variable KEYWARD_LOG_LEVL is ignored (did you mean KEYWARD_LOG_LEVEL?)",
      "unknown variable KEYWARD_RATE_LIMIT_FAIL_CLOSE is ignored (did you mean KEYWARD_RATE_LIMIT_FAIL_CLOSED?)",
      "unknown variable KEYWARD_SOMETHING_ELSE_ENTIRELY is ignored",
    ]);
    expect((await fetch(`${replica.httpUrl}/healthz`)).status).toBe(200);
  });
});
