import { createHash, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { GCRA_LUA } from "../../src/adapters/redis/gcra-script.js";
import { openRedisCluster } from "../../src/adapters/redis/redis-cluster-connection.js";
import { closeRedis, openRedis } from "../../src/adapters/redis/redis-connection.js";
import { MAX_BATCH, poolKey, RedisRateLimiter } from "../../src/adapters/redis/redis-rate-limiter.js";
import { startRedisCluster } from "../setup/servers.js";
import type { RedisClusterServer } from "../setup/servers.js";
import { rateLimiterContract } from "./rate-limiter.contract.js";

const quiet = { info: () => {}, warn: () => {} };
let redis: Redis;
let clusterServer: RedisClusterServer | undefined;
let cluster: Cluster | undefined;

beforeAll(async () => {
  redis = await openRedis(inject("redisUrl"), { commandTimeoutMs: 2000, logger: quiet });
  clusterServer = await startRedisCluster();
  cluster = await openRedisCluster(
    clusterServer.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
    { commandTimeoutMs: 2000, logger: quiet },
  );
});
afterAll(async () => {
  if (redis) await closeRedis(redis);
  if (cluster) await closeRedis(cluster);
  await clusterServer?.stop();
});

rateLimiterContract("memory", async () => {
  let now = Date.now();
  return {
    limiter: new MemoryRateLimiter(() => now),
    pause: async (ms) => {
      now += ms;
    },
  };
});

rateLimiterContract("redis", async () => ({
  // Redis keeps its own clock (TIME): time passes for real, polled in short steps.
  limiter: new RedisRateLimiter(redis),
  pause: (ms) => sleep(ms),
}));

rateLimiterContract("redis cluster", async () => ({
  limiter: new RedisRateLimiter(cluster!),
  pause: (ms) => sleep(ms),
}));

describe("RedisRateLimiter on Redis Cluster", () => {
  it("keeps each pool in the slot of its hash tag", async () => {
    const limiter = new RedisRateLimiter(cluster!);
    const pool = `org:${randomUUID()}:live`;
    await limiter.consume(pool, { limit: 10, windowMs: 60_000 }, 1);
    expect(poolKey(pool)).toBe(`keyward:rl:{${pool}}`);
    const [keySlot, tagSlot] = await Promise.all([cluster!.cluster("KEYSLOT", poolKey(pool)), cluster!.cluster("KEYSLOT", pool)]);
    expect(keySlot).toBe(tagSlot);
    expect(await cluster!.hget(poolKey(pool), "level")).toBe("1");
  });

  it("loads the script again on a master whose script cache is empty (as a promoted replica's is)", async () => {
    const limiter = new RedisRateLimiter(cluster!);
    const plan = { limit: 100, windowMs: 60_000 };
    const pools = Array.from({ length: 12 }, () => `org:${randomUUID()}:live`);
    await Promise.all(pools.map((pool) => limiter.consume(pool, plan, 1)));
    await Promise.all(cluster!.nodes("master").map((node) => node.script("FLUSH")));
    const again = await Promise.all(pools.map((pool) => limiter.consume(pool, plan, 1)));
    expect(again.every((d) => d.allowed && d.remaining === 98)).toBe(true);
  });
});

describe("RedisRateLimiter on Redis", () => {
  it("keeps one small hash per pool that expires when the bucket is empty", async () => {
    const limiter = new RedisRateLimiter(redis);
    const pool = `org:${randomUUID()}:live`;
    const decision = await limiter.consume(pool, { limit: 10, windowMs: 60_000 }, 4);
    const key = poolKey(pool);
    expect(Object.keys(await redis.hgetall(key)).sort()).toEqual(["at", "level"]);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(decision.resetMs + 1);

    // A short plan drains in 20 ms; polled (bounded) until the key is gone.
    const briefPool = `org:${randomUUID()}:live`;
    const brief = poolKey(briefPool);
    await limiter.consume(briefPool, { limit: 10, windowMs: 200 }, 1);
    let attempts = 0;
    while ((await redis.exists(brief)) === 1) {
      expect(++attempts).toBeLessThan(100);
      await sleep(20);
    }
  });

  /**
   * A limiter on a connection of its own, for `test`; `sent` lists the
   * commands it sent, and `failScripts` makes Redis fail every script call.
   */
  async function onFreshConnection(
    test: (fresh: Redis, limiter: RedisRateLimiter, spy: { sent: string[]; failScripts: boolean }) => Promise<void>,
  ): Promise<void> {
    const fresh = await openRedis(inject("redisUrl"), { commandTimeoutMs: 2000, logger: quiet });
    const spy = { sent: [] as string[], failScripts: false };
    const send = fresh.sendCommand.bind(fresh);
    fresh.sendCommand = (command, stream) => {
      spy.sent.push(command.name);
      if (spy.failScripts && command.name === "evalsha") {
        command.reject(new Error("injected failure"));
        return command.promise;
      }
      return send(command, stream);
    };
    try {
      await test(fresh, new RedisRateLimiter(fresh), spy);
    } finally {
      await closeRedis(fresh);
    }
  }

  it("runs the script by its SHA (EVALSHA), reloading it on a new connection", () =>
    onFreshConnection(async (fresh, limiter) => {
      const sha = createHash("sha1").update(GCRA_LUA).digest("hex");
      await fresh.script("FLUSH");
      const plan = { limit: 100, windowMs: 60_000 };
      const pool = `org:${randomUUID()}:live`;
      await limiter.consume(pool, plan, 1);
      expect(await fresh.script("EXISTS", sha)).toEqual([1]);
      await fresh.script("FLUSH");
      // The script cache is gone (as after a Redis restart): NOSCRIPT, then EVAL again.
      expect(await limiter.consume(pool, plan, 1)).toMatchObject({ allowed: true, remaining: 98 });
    }));

  it("decides the calls of one turn of the event loop in one script call, in order, exactly", () =>
    onFreshConnection(async (fresh, limiter, spy) => {
      const plan = { limit: 150, windowMs: 60_000 };
      const [hot, other] = [`org:${randomUUID()}:live`, `key:${randomUUID()}`];
      // 200 decisions on one pool and 3 on another, asked for in one tick.
      const pending = Array.from({ length: 200 }, () => limiter.consume(hot, plan, 1));
      const others = Array.from({ length: 3 }, () => limiter.consume(other, { limit: 2, windowMs: 60_000 }, 1));
      const decisions = await Promise.all(pending);
      expect(spy.sent.filter((name) => name === "evalsha")).toHaveLength(1);
      // In the order asked: the first 150 allowed, counting down; the rest denied.
      expect(decisions.map((d) => d.remaining)).toEqual([...Array.from({ length: 150 }, (_, i) => 149 - i), ...Array(50).fill(0)]);
      expect(decisions.map((d) => d.allowed)).toEqual([...Array(150).fill(true), ...Array(50).fill(false)]);
      expect(decisions[150]?.retryAfterMs).toBeGreaterThan(0);
      expect((await Promise.all(others)).map((d) => d.allowed)).toEqual([true, true, false]);
      // The pool was written once, with the level after the last charge.
      expect(Number(await fresh.hget(poolKey(hot), "level"))).toBeCloseTo(150, 3);
    }));

  it(`splits a burst into script calls of at most ${MAX_BATCH} decisions`, () =>
    onFreshConnection(async (_, limiter, spy) => {
      const pool = `org:${randomUUID()}:live`;
      const decisions = await Promise.all(Array.from({ length: MAX_BATCH * 2 + 1 }, () => limiter.consume(pool, { limit: 10_000, windowMs: 60_000 }, 1)));
      expect(spy.sent.filter((name) => name === "evalsha")).toHaveLength(3);
      expect(decisions.at(-1)?.remaining).toBe(10_000 - (MAX_BATCH * 2 + 1));
    }));

  it("fails every decision of a script call when Redis fails it, and decides again once Redis answers", () =>
    onFreshConnection(async (_, limiter, spy) => {
      const plan = { limit: 10, windowMs: 60_000 };
      const pool = `org:${randomUUID()}:live`;
      spy.failScripts = true;
      const failed = await Promise.allSettled(Array.from({ length: 5 }, () => limiter.consume(pool, plan, 1)));
      expect(failed.map((r) => r.status)).toEqual(Array(5).fill("rejected"));
      spy.failScripts = false;
      expect(await limiter.consume(pool, plan, 1)).toMatchObject({ allowed: true, remaining: 9 });
    }));
});
