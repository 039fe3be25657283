import type { Cluster, Redis, Result } from "ioredis";
import type { RateLimitPlan } from "../../domain/api-key.js";
import type { RateLimitDecision, RateLimiter } from "../../ports/rate-limiter.js";
import { GCRA_LUA } from "./gcra-script.js";

type GcraReply = [allowed: number, remaining: number, resetMs: number, retryAfterMs: number];

declare module "ioredis" {
  // ioredis's documented way to type a command added with defineCommand.
  interface RedisCommander<Context> {
    keywardGcra(key: string, limit: number, windowMs: number, cost: number): Result<GcraReply, Context>;
  }
}

/** Where pools live in Redis. */
export const POOL_KEY_PREFIX = "keyward:rl:";

/**
 * A pool's key: `keyward:rl:{org:<id>:live}`, `keyward:rl:{key:<id>}`. The
 * braces are a Redis Cluster hash tag: only the pool's name picks the slot,
 * so whatever keys a pool ever holds share one slot (one node) and one
 * script can touch them all. One Redis node ignores the braces.
 */
export function poolKey(pool: string): string {
  return `${POOL_KEY_PREFIX}{${pool}}`;
}

/**
 * The shared limiter: every decision is one atomic Lua script on Redis
 * (EVALSHA, loaded by ioredis's defineCommand), timed by Redis's clock, so
 * any number of replicas count one pool exactly. Concurrent decisions ride
 * the connection's auto-pipeline. A Redis failure rejects the promise; the
 * caller decides what to do (see FailoverRateLimiter).
 *
 * On Redis Cluster each decision goes to the master owning the pool's slot
 * (one key per call). A promoted replica has no scripts in its cache: the
 * EVALSHA answered NOSCRIPT is sent again as EVAL by ioredis's
 * defineCommand, which then loads it there.
 */
export class RedisRateLimiter implements RateLimiter {
  constructor(private readonly redis: Redis | Cluster) {
    redis.defineCommand("keywardGcra", { numberOfKeys: 1, lua: GCRA_LUA });
  }

  async consume(pool: string, plan: RateLimitPlan, cost: number): Promise<RateLimitDecision> {
    const reply = await this.redis.keywardGcra(poolKey(pool), plan.limit, plan.windowMs, cost);
    return { allowed: reply[0] === 1, limit: plan.limit, remaining: reply[1], resetMs: reply[2], retryAfterMs: reply[3] };
  }
}
