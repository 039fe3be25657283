import type { Cluster, Redis, Result } from "ioredis";
import type { RateLimitPlan } from "../../domain/api-key.js";
import type { RateLimitDecision, RateLimiter } from "../../ports/rate-limiter.js";
import { GCRA_LUA } from "./gcra-script.js";

declare module "ioredis" {
  // ioredis's documented way to type a command added with defineCommand.
  interface RedisCommander<Context> {
    /** numberOfKeys, the keys, then four values per decision (see GCRA_LUA). */
    keywardGcra(...args: (string | number)[]): Result<number[], Context>;
    /** The same script with one key first, as ioredis's Cluster routes it (see RedisRateLimiter). */
    keywardGcraOnePool(key: string, ...args: (string | number)[]): Result<number[], Context>;
  }
}

/** Where pools live in Redis. */
export const POOL_KEY_PREFIX = "keyward:rl:";

/** The most decisions one script call carries: bounds the time Redis spends in one call. */
export const MAX_BATCH = 256;

/**
 * A pool's key: `keyward:rl:{org:<id>:live}`, `keyward:rl:{key:<id>}`. The
 * braces are a Redis Cluster hash tag: only the pool's name picks the slot,
 * so whatever keys a pool ever holds share one slot (one node) and one
 * script can touch them all. One Redis node ignores the braces.
 */
export function poolKey(pool: string): string {
  return `${POOL_KEY_PREFIX}{${pool}}`;
}

/** The decisions waiting for one script call. */
class Batch {
  /** Pool key → its index in KEYS (1-based, as Lua counts). */
  readonly keys = new Map<string, number>();
  readonly args: (string | number)[] = [];
  readonly waiting: { plan: RateLimitPlan; resolve(d: RateLimitDecision): void; reject(e: unknown): void }[] = [];

  add(pool: string, plan: RateLimitPlan, cost: number): Promise<RateLimitDecision> {
    const key = poolKey(pool);
    let index = this.keys.get(key);
    if (index === undefined) {
      index = this.keys.size + 1;
      this.keys.set(key, index);
    }
    this.args.push(index, plan.limit, plan.windowMs, cost);
    return new Promise((resolve, reject) => void this.waiting.push({ plan, resolve, reject }));
  }

  get size(): number {
    return this.waiting.length;
  }

  send(redis: Redis | Cluster): void {
    const reply = redis.isCluster
      ? redis.keywardGcraOnePool(this.keys.keys().next().value as string, ...this.args)
      : redis.keywardGcra(this.keys.size, ...this.keys.keys(), ...this.args);
    reply.then(
      (reply) => {
        this.waiting.forEach(({ plan, resolve }, i) => {
          const at = i * 4;
          resolve({ allowed: reply[at] === 1, limit: plan.limit, remaining: reply[at + 1] as number, resetMs: reply[at + 2] as number, retryAfterMs: reply[at + 3] as number });
        });
      },
      (error: unknown) => {
        for (const { reject } of this.waiting) reject(error);
      },
    );
  }
}

/**
 * The shared limiter: decisions are made by one atomic Lua script on Redis
 * (EVALSHA, loaded by ioredis's defineCommand), timed by Redis's clock, so
 * any number of replicas count one pool exactly. The decisions asked for in
 * one turn of the event loop leave together, as one script call that
 * decides them in order (GCRA_LUA): one round trip each still, but one
 * command for ioredis to build and Redis to run instead of one per call. A
 * Redis failure rejects every decision of the call; the caller decides what
 * to do (see FailoverRateLimiter).
 *
 * On Redis Cluster a script may only touch one slot: decisions are batched
 * per pool, and each batch goes to the master owning the pool's slot. A
 * promoted replica has no scripts in its cache: the EVALSHA answered
 * NOSCRIPT is sent again as EVAL by ioredis's defineCommand, which then
 * loads it there.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly perPool: boolean;
  /** Batches being filled, by pool (Cluster) or all in one (one node). */
  private readonly filling = new Map<string, Batch>();
  private scheduled = false;

  constructor(private readonly redis: Redis | Cluster) {
    redis.defineCommand("keywardGcra", { lua: GCRA_LUA });
    // ioredis's Cluster picks a command's node (and auto-pipeline) by its
    // first argument: a batch there has one pool, named first.
    redis.defineCommand("keywardGcraOnePool", { lua: GCRA_LUA, numberOfKeys: 1 });
    this.perPool = redis.isCluster;
  }

  consume(pool: string, plan: RateLimitPlan, cost: number): Promise<RateLimitDecision> {
    const group = this.perPool ? pool : "";
    let batch = this.filling.get(group);
    if (batch === undefined) {
      batch = new Batch();
      this.filling.set(group, batch);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    }
    const decision = batch.add(pool, plan, cost);
    if (batch.size >= MAX_BATCH) {
      this.filling.delete(group);
      batch.send(this.redis);
    }
    return decision;
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    for (const batch of this.filling.values()) batch.send(this.redis);
    this.filling.clear();
  };
}
