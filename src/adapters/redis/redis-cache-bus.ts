import { Cluster } from "ioredis";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { CacheBus, Invalidation } from "../../ports/cache-bus.js";

export const INVALIDATION_CHANNEL = "keyward:invalidations";
const SUBSCRIBE_WAIT_MS = 1000;

/**
 * Invalidations over Redis pub/sub: every replica subscribes, so a revoke on
 * one reaches all of them in milliseconds. A subscriber that was cut off may
 * have missed messages; it is told to drop its whole cache on reconnect.
 *
 * On Redis Cluster this stays classic PUBLISH/SUBSCRIBE, on purpose: the
 * cluster bus forwards a PUBLISH to every node, so each replica's
 * subscription (on whichever node ioredis picked) receives it. Sharded
 * pub/sub (SPUBLISH) would save that fan-out, but one channel is one slot,
 * so it would put every invalidation on a single shard anyway, and
 * invalidations come only from management writes: the fan-out costs nothing
 * that matters. When a node leaves the cluster, the subscription may have
 * been on it (ioredis moves it to another node; what was published in
 * between is lost), so the cache is dropped then too.
 */
export class RedisCacheBus implements CacheBus {
  private subscriber: Redis | Cluster | null = null;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly logger: Pick<Logger, "warn">,
  ) {}

  async publish(invalidation: Invalidation): Promise<void> {
    try {
      await this.redis.publish(INVALIDATION_CHANNEL, JSON.stringify(invalidation));
    } catch (error) {
      // Other replicas fall back on their cache TTL; this one was invalidated locally.
      this.logger.warn({ err: { message: (error as Error).message } }, "cache invalidation not published");
    }
  }

  async subscribe(listener: (invalidation: Invalidation) => void, onReconnect: () => void): Promise<void> {
    // A subscribed connection can do nothing else. Unlike the limiter's
    // fail-fast connection, it queues SUBSCRIBE while Redis is down (so a
    // replica started during an outage subscribes once Redis is back) and
    // ioredis re-subscribes after every reconnect.
    const subscriber = this.openSubscriber();
    this.subscriber = subscriber;
    subscriber.on("error", () => {}); // reported by the main connection
    let connectedBefore = false;
    subscriber.on("ready", () => {
      if (connectedBefore) onReconnect();
      connectedBefore = true;
    });
    if (subscriber instanceof Cluster) {
      subscriber.on("node error", () => {});
      subscriber.on("-node", () => {
        if (connectedBefore) onReconnect();
      });
    }
    subscriber.on("message", (_channel: string, message: string) => {
      const invalidation = parseInvalidation(message);
      if (invalidation) listener(invalidation);
    });
    const subscribed = subscriber.subscribe(INVALIDATION_CHANNEL).then(
      () => true,
      (error: unknown) => {
        this.logger.warn({ err: { message: (error as Error).message } }, "cache invalidations: subscribe failed; TTL only");
        return false;
      },
    );
    // Wait for the subscription when Redis is up; don't hold up a start while it is down.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([subscribed, new Promise((resolve) => (timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private openSubscriber(): Redis | Cluster {
    if (this.redis instanceof Cluster) {
      const { redisOptions } = this.redis.options;
      return this.redis.duplicate([], {
        enableOfflineQueue: true,
        enableAutoPipelining: false,
        redisOptions: { ...redisOptions, maxRetriesPerRequest: null, commandTimeout: undefined },
      });
    }
    return this.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.subscriber = null;
  }
}

function parseInvalidation(message: string): Invalidation | null {
  try {
    const value = JSON.parse(message) as Partial<Invalidation> & { hashes?: unknown; id?: unknown };
    if (value.type === "key" && Array.isArray(value.hashes) && value.hashes.every((h) => typeof h === "string")) {
      return { type: "key", hashes: value.hashes as string[] };
    }
    if (value.type === "organization" && typeof value.id === "string") return { type: "organization", id: value.id };
  } catch {
    // not ours
  }
  return null;
}
