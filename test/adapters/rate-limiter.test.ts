import { createHash, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { GCRA_LUA } from "../../src/adapters/redis/gcra-script.js";
import { openRedisCluster } from "../../src/adapters/redis/redis-cluster-connection.js";
import { closeRedis, openRedis } from "../../src/adapters/redis/redis-connection.js";
import { poolKey, RedisRateLimiter } from "../../src/adapters/redis/redis-rate-limiter.js";
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

  it("runs the script by its SHA (EVALSHA), reloading it on a new connection", async () => {
    const sha = createHash("sha1").update(GCRA_LUA).digest("hex");
    const fresh = await openRedis(inject("redisUrl"), { commandTimeoutMs: 2000, logger: quiet });
    try {
      const limiter = new RedisRateLimiter(fresh);
      await fresh.script("FLUSH");
      const plan = { limit: 100, windowMs: 60_000 };
      const pool = `org:${randomUUID()}:live`;
      await limiter.consume(pool, plan, 1);
      expect(await fresh.script("EXISTS", sha)).toEqual([1]);
      await fresh.script("FLUSH");
      // The script cache is gone (as after a Redis restart): NOSCRIPT, then EVAL again.
      expect(await limiter.consume(pool, plan, 1)).toMatchObject({ allowed: true, remaining: 98 });
    } finally {
      await closeRedis(fresh);
    }
  });

  it("pipelines concurrent decisions on one connection", async () => {
    const limiter = new RedisRateLimiter(redis);
    const plan = { limit: 1000, windowMs: 60_000 };
    const pool = `org:${randomUUID()}:live`;
    // Issued in one tick, the 200 scripts wait in the auto-pipeline and leave
    // in one write instead of 200 round trips.
    const pending = Array.from({ length: 200 }, () => limiter.consume(pool, plan, 1));
    expect(redis.autoPipelineQueueSize).toBe(200);
    const decisions = await Promise.all(pending);
    expect(redis.autoPipelineQueueSize).toBe(0);
    expect(decisions.map((d) => d.remaining).sort((a, b) => b - a)).toEqual(
      Array.from({ length: 200 }, (_, i) => 999 - i),
    );
  });
});
