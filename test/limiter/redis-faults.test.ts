/**
 * Redis failing under a running service: a private redis-server is stopped
 * and started again on the same port (or made to hang), while Verify keeps
 * answering over gRPC.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { poolKey } from "../../src/adapters/redis/redis-rate-limiter.js";
import { startRedis } from "../setup/servers.js";
import { eventually } from "../support/eventually.js";
import type { RedisServer } from "../setup/servers.js";
import { freezableProxy } from "../support/freezable-proxy.js";
import { startTestKeyward } from "../support/keyward.js";
import type { Clients, LogLine } from "../support/keyward.js";
import type { Keyward } from "../../src/service.js";
import { labelledValue, metricValue } from "../support/metrics.js";
import { bearer, organizationWithPlan } from "./support.js";

const HOUR = 3_600_000;
const FALLBACKS = "keyward_rate_limiter_fallback_total";
const REFUSALS = "keyward_rate_limiter_unavailable_total";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function privateRedis(port?: number): Promise<RedisServer> {
  const server = await startRedis(port === undefined ? {} : { port });
  cleanups.push(() => server.stop());
  return server;
}

/** The real service on MongoDB with its log lines kept, stopped after the test. */
async function service(env: Record<string, string>): Promise<{ keyward: Keyward; clients: Clients; logs: LogLine[] }> {
  const started = await startTestKeyward({ env, captureLogs: true });
  cleanups.push(() => started.stop());
  return { keyward: started.keyward, clients: started.clients("grpc"), logs: started.logs };
}

/** Whether Redis holds the pool, i.e. decided it. */
async function poolOnRedis(url: string, organizationId: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    return (await client.exists(poolKey(`org:${organizationId}:live`))) === 1;
  } finally {
    client.disconnect();
  }
}


describe("Redis outage, fail-open (default)", () => {
  it("answers from the in-process limiter, counts and logs it, and goes back to Redis once it returns", async () => {
    const redis = await privateRedis();
    const { keyward, clients, logs } = await service({ REDIS_URL: redis.url });
    const { httpUrl } = keyward.server;
    const org = await organizationWithPlan(clients, 1000, HOUR);
    const headers = bearer(await org.newKey());

    expect((await clients.auth.verify({ headers })).rateLimit?.remaining).toBe(999);
    expect(await poolOnRedis(redis.url, org.id)).toBe(true);
    expect(await metricValue(httpUrl, FALLBACKS)).toBe(0);

    await redis.stop();
    const during = await Promise.all(Array.from({ length: 50 }, () => clients.auth.verify({ headers })));
    for (let i = 0; i < 10; i++) during.push(await clients.auth.verify({ headers }));
    expect(during.every((v) => v.allowed && v.code === VerifyCode.OK)).toBe(true);
    // The local pool starts empty: 60 decisions, 940..999 left.
    expect(Math.min(...during.map((v) => v.rateLimit?.remaining ?? -1))).toBe(940);
    expect(await metricValue(httpUrl, FALLBACKS)).toBe(60);
    const warnings = logs.filter((l) => l.level === "warn" && l.msg.startsWith("rate limiter: Redis failed"));
    expect(warnings).toHaveLength(1);
    // Still doing its job: ready (a probe must not pull every replica at once), degraded in the body and metrics.
    const ready = await fetch(`${httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "degraded", checks: { storage: true, redis: false }, degraded: ["redis"] });
    expect(await labelledValue(httpUrl, 'keyward_dependency_up{dependency="redis"}')).toBe(0);

    const restarted = await privateRedis(redis.port);
    // Reconnection is in the background: poll until a decision is Redis's again.
    await eventually(async () => {
      const before = await metricValue(httpUrl, FALLBACKS);
      expect((await clients.auth.verify({ headers })).allowed).toBe(true);
      return (await metricValue(httpUrl, FALLBACKS)) === before;
    });
    expect(await poolOnRedis(restarted.url, org.id)).toBe(true);
    expect(logs.some((l) => l.level === "info" && l.msg.startsWith("rate limiter: Redis answers again"))).toBe(true);
    expect(await (await fetch(`${httpUrl}/readyz`)).json()).toMatchObject({ status: "ready", checks: { storage: true, redis: true } });
    expect(await labelledValue(httpUrl, 'keyward_dependency_up{dependency="redis"}')).toBe(1);
  });

  it("does not hang on a Redis that stops answering: the command times out and the local limiter decides", async () => {
    const redis = await privateRedis();
    const proxy = await freezableProxy(redis.port);
    cleanups.push(() => proxy.close());
    const { keyward, clients } = await service({ REDIS_URL: proxy.url, KEYWARD_REDIS_COMMAND_TIMEOUT_MS: "100" });
    const org = await organizationWithPlan(clients, 1000, HOUR);
    const headers = bearer(await org.newKey());
    expect((await clients.auth.verify({ headers })).allowed).toBe(true);

    proxy.freeze();
    const during = await Promise.all(Array.from({ length: 20 }, () => clients.auth.verify({ headers })));
    expect(during.every((v) => v.allowed)).toBe(true);
    expect(await metricValue(keyward.server.httpUrl, FALLBACKS)).toBe(20);

    proxy.thaw();
    await eventually(async () => {
      const before = await metricValue(keyward.server.httpUrl, FALLBACKS);
      await clients.auth.verify({ headers });
      return (await metricValue(keyward.server.httpUrl, FALLBACKS)) === before;
    });
  });

  it("starts while Redis is down, and uses it once it is up", async () => {
    const redis = await privateRedis();
    await redis.stop();
    const { keyward, clients } = await service({ REDIS_URL: redis.url });
    const org = await organizationWithPlan(clients, 10, HOUR);
    const headers = bearer(await org.newKey());
    expect((await clients.auth.verify({ headers })).allowed).toBe(true);
    expect(await metricValue(keyward.server.httpUrl, FALLBACKS)).toBe(1);

    const started = await privateRedis(redis.port);
    await eventually(async () => {
      await clients.auth.verify({ headers });
      return poolOnRedis(started.url, org.id);
    });
  });
});

describe("Redis outage, fail-closed (KEYWARD_RATE_LIMIT_FAIL_CLOSED=true)", () => {
  it("answers UNAVAILABLE while Redis is down — never allowed — and decides again once it returns", async () => {
    const redis = await privateRedis();
    const { keyward, clients, logs } = await service({ REDIS_URL: redis.url, KEYWARD_RATE_LIMIT_FAIL_CLOSED: "true" });
    const org = await organizationWithPlan(clients, 1000, HOUR);
    const key = await org.newKey();
    const headers = bearer(key);
    expect((await clients.auth.verify({ headers })).allowed).toBe(true);

    await redis.stop();
    const during = await Promise.allSettled(Array.from({ length: 20 }, () => clients.auth.verify({ headers })));
    for (const outcome of during) {
      expect(outcome.status).toBe("rejected");
      if (outcome.status === "rejected") {
        expect(outcome.reason).toBeInstanceOf(ConnectError);
        expect((outcome.reason as ConnectError).code).toBe(Code.Unavailable);
      }
    }
    expect(await metricValue(keyward.server.httpUrl, REFUSALS)).toBe(20);
    // Fail-closed: this replica cannot decide, so it leaves the pool.
    const ready = await fetch(`${keyward.server.httpUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: "unavailable", checks: { storage: true, redis: false } });
    expect(await metricValue(keyward.server.httpUrl, FALLBACKS)).toBe(0);
    expect(logs.filter((l) => l.level === "warn" && l.msg.startsWith("rate limiter: Redis failed"))).toHaveLength(1);
    // Denials that need no limiter still answer verdicts.
    const malformed = await clients.auth.verify({ headers: bearer(`${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`) });
    expect(malformed.code).toBe(VerifyCode.MALFORMED_CREDENTIALS);

    await privateRedis(redis.port);
    await eventually(async () => {
      try {
        return (await clients.auth.verify({ headers })).allowed;
      } catch (error) {
        if (error instanceof ConnectError && error.code === Code.Unavailable) return false;
        throw error;
      }
    });
  });
});
