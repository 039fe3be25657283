import { Cluster } from "ioredis";
import { watchConnection } from "./redis-connection.js";
import type { RedisConnectionOptions } from "./redis-connection.js";

/** One seed of `KEYWARD_REDIS_CLUSTER_NODES`: any node of the cluster; ioredis discovers the rest. */
export interface ClusterSeed {
  host: string;
  port: number;
}

/** Longest pause between attempts to reach the cluster again after every node was lost. */
const MAX_RECONNECT_DELAY_MS = 1000;
/**
 * How often the slot map is read again without being asked to: a replica
 * promoted after its master died is found within about this long even when
 * no MOVED reply points at it.
 */
const SLOTS_REFRESH_INTERVAL_MS = 1000;

/**
 * Opens Redis Cluster for the rate limiter and the cache bus, failing fast as
 * openRedis does: no offline queue while the cluster is not ready, no
 * per-command retries (a few fast redirections at most), a command timeout
 * on every node; slot-map refreshes and reconnections go on in the
 * background. While the master that owns a pool's slot is down, that pool's
 * commands fail within a few hundred milliseconds (the limiter falls back;
 * other slots are unaffected); once the cluster has promoted its replica,
 * the next refresh of the slot map sends them there, without a restart.
 * Resolves once the first attempt has succeeded or failed.
 */
export async function openRedisCluster(seeds: readonly ClusterSeed[], options: RedisConnectionOptions): Promise<Cluster> {
  const cluster = new Cluster(
    seeds.map(({ host, port }) => ({ host, port })),
    {
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
      slotsRefreshInterval: SLOTS_REFRESH_INTERVAL_MS,
      slotsRefreshTimeout: Math.max(1000, options.commandTimeoutMs),
      // A command whose node closed is retried after a slot refresh; this bounds
      // how long: a dead master refuses connections, so the retries end fast.
      retryDelayOnFailover: 50,
      retryDelayOnClusterDown: 50,
      maxRedirections: 4,
      redisOptions: {
        // A node's own offline queue stays on: ioredis opens node connections
        // lazily, with the first command. A node that cannot be reached ends its
        // connection (no node reconnects), which fails what was queued at once.
        maxRetriesPerRequest: 0,
        commandTimeout: options.commandTimeoutMs,
        connectTimeout: Math.max(1000, options.commandTimeoutMs),
        disconnectTimeout: 200,
      },
    },
  );
  cluster.on("node error", () => {}); // a lost node shows as failed decisions (metrics), then as a new slot map
  await watchConnection(cluster, "redis cluster", options.logger);
  return cluster;
}
