import { Redis } from "ioredis";
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { MemoryCacheBus } from "../../src/adapters/memory/memory-cache-bus.js";
import { INVALIDATION_CHANNEL, RedisCacheBus } from "../../src/adapters/redis/redis-cache-bus.js";
import type { Invalidation } from "../../src/ports/cache-bus.js";
import { openRedisCluster } from "../../src/adapters/redis/redis-cluster-connection.js";
import { closeRedis } from "../../src/adapters/redis/redis-connection.js";
import { startRedis, startRedisCluster } from "../setup/servers.js";
import type { RedisClusterServer } from "../setup/servers.js";
import { eventually } from "../support/eventually.js";
import { cacheBusContract } from "./cache-bus.contract.js";

const connections: Redis[] = [];
/** A connection like the service's own: fail-fast, connected before use. */
const connect = async (url: string) => {
  const redis = new Redis(url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50 });
  redis.on("error", () => {});
  connections.push(redis);
  await new Promise((resolve) => redis.once("ready", resolve));
  return redis;
};
const quiet = { warn: () => {} };
let clusterServer: RedisClusterServer | undefined;
const clusters: Cluster[] = [];
/** The service's own cluster connection. */
const connectCluster = async () => {
  const seeds = clusterServer!.nodes.map((n) => ({ host: "127.0.0.1", port: n.port }));
  const cluster = await openRedisCluster(seeds, { commandTimeoutMs: 2000, logger: { info: () => {}, warn: () => {} } });
  clusters.push(cluster);
  return cluster;
};
beforeAll(async () => {
  clusterServer = await startRedisCluster();
});
afterAll(async () => {
  for (const redis of connections) redis.disconnect();
  await Promise.all(clusters.map((cluster) => closeRedis(cluster)));
  await clusterServer?.stop();
});

cacheBusContract("memory", async () => {
  const bus = new MemoryCacheBus();
  return { a: bus, b: bus };
});
cacheBusContract("redis", async () => ({
  a: new RedisCacheBus(await connect(inject("redisUrl")), quiet),
  b: new RedisCacheBus(await connect(inject("redisUrl")), quiet),
}));

// Classic PUBLISH on any node reaches subscribers on every node of the cluster.
cacheBusContract("redis cluster", async () => ({
  a: new RedisCacheBus(await connectCluster(), quiet),
  b: new RedisCacheBus(await connectCluster(), quiet),
}));

describe("RedisCacheBus", () => {
  it("ignores foreign messages on its channel", async () => {
    const redis = await connect(inject("redisUrl"));
    const bus = new RedisCacheBus(redis, quiet);
    const seen: Invalidation[] = [];
    await bus.subscribe((i) => seen.push(i), () => {});
    const publisher = await connect(inject("redisUrl"));
    await eventually(async () => (await publisher.publish(INVALIDATION_CHANNEL, "hello")) > 0, 40, 25);
    await publisher.publish(INVALIDATION_CHANNEL, JSON.stringify({ type: "key", hashes: [1] }));
    await publisher.publish(INVALIDATION_CHANNEL, JSON.stringify({ type: "organization", id: "x" }));
    await eventually(async () => seen.length === 1, 40, 25);
    expect(seen).toEqual([{ type: "organization", id: "x" }]);
    await bus.close();
  });

  it("asks for a full cache drop after reconnecting, then receives again", async () => {
    const server = await startRedis();
    try {
      const bus = new RedisCacheBus(await connect(server.url), quiet);
      let reconnects = 0;
      const seen: Invalidation[] = [];
      await bus.subscribe((i) => seen.push(i), () => reconnects++);
      const publisher = await connect(server.url);
      await eventually(async () => (await publisher.publish(INVALIDATION_CHANNEL, "{}")) > 0, 40, 25);
      await server.stop();
      const again = await startRedis({ port: server.port });
      try {
        await eventually(async () => reconnects === 1, 100, 50);
        await eventually(async () => {
          await publisher.publish(INVALIDATION_CHANNEL, JSON.stringify({ type: "organization", id: "after" })).catch(() => 0);
          return seen.length > 0;
        }, 100, 50);
        expect(seen[0]).toEqual({ type: "organization", id: "after" });
      } finally {
        await bus.close();
        await again.stop();
      }
    } finally {
      await server.stop();
    }
  });
});
