import { Redis } from "ioredis";
import type { Cluster } from "ioredis";
import type { Logger } from "pino";

export interface RedisConnectionOptions {
  /** A command still unanswered after this long fails, so callers never hang on a stuck Redis. */
  commandTimeoutMs: number;
  logger: Pick<Logger, "info" | "warn">;
}

/** Longest pause between reconnection attempts: Redis is back in use within about this long. */
const MAX_RECONNECT_DELAY_MS = 1000;

/**
 * Opens the Redis connection the rate limiter uses. It fails fast while
 * Redis is down (no offline queue, no per-command retries, a command
 * timeout) and keeps reconnecting in the background, so the caller can fall
 * back at once and return to Redis without a restart. Resolves once the
 * first attempt has succeeded or failed: a Redis that is down at start does
 * not stop the service.
 */
export async function openRedis(url: string, options: RedisConnectionOptions): Promise<Redis> {
  const redis = new Redis(url, {
    // The limiter batches its own decisions (one command per turn of the
    // event loop): ioredis's auto-pipeline would only wrap each in a Pipeline.
    enableAutoPipelining: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(1000, options.commandTimeoutMs),
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    // disconnect() otherwise keeps a 2 s timer alive after a refused connect.
    disconnectTimeout: 200,
  });
  await watchConnection(redis, "redis", options.logger);
  return redis;
}

/**
 * Logs an outage once and the return once (every failed decision is
 * counted in metrics instead), and resolves once the first attempt to
 * connect has succeeded or failed: a Redis that is down at start does not
 * stop the service. One node or a cluster alike.
 */
export async function watchConnection(
  client: Redis | Cluster,
  name: string,
  logger: Pick<Logger, "info" | "warn">,
): Promise<void> {
  let down = false;
  client.on("error", (error: Error) => {
    if (down) return;
    down = true;
    logger.warn({ err: { name: error.name, message: error.message } }, `${name}: connection failed; reconnecting`);
  });
  client.on("ready", () => {
    if (down) logger.info(`${name}: connected again`);
    down = false;
  });
  await new Promise<void>((resolve) => {
    const settle = () => {
      client.off("ready", settle);
      client.off("error", settle);
      resolve();
    };
    client.on("ready", settle);
    client.on("error", settle);
  });
}

/** Closes the connection (one node or a cluster): QUIT when connected, else just stop reconnecting. */
export async function closeRedis(redis: Redis | Cluster): Promise<void> {
  if (redis.status === "ready") {
    try {
      await redis.quit();
      return;
    } catch {
      // Fall through: the connection is gone either way.
    }
  }
  redis.disconnect();
}
