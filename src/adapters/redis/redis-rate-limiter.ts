import type { Redis, Result } from "ioredis";
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

/** Where pools live in Redis: `keyward:rl:org:<id>:live`, `keyward:rl:key:<id>`. */
export const POOL_KEY_PREFIX = "keyward:rl:";

/**
 * The shared limiter: every decision is one atomic Lua script on Redis
 * (EVALSHA, loaded by ioredis's defineCommand), timed by Redis's clock, so
 * any number of replicas count one pool exactly. Concurrent decisions ride
 * the connection's auto-pipeline. A Redis failure rejects the promise; the
 * caller decides what to do (see FailoverRateLimiter).
 */
export class RedisRateLimiter implements RateLimiter {
  constructor(private readonly redis: Redis) {
    redis.defineCommand("keywardGcra", { numberOfKeys: 1, lua: GCRA_LUA });
  }

  async consume(pool: string, plan: RateLimitPlan, cost: number): Promise<RateLimitDecision> {
    const [allowed, remaining, resetMs, retryAfterMs] = await this.redis.keywardGcra(
      POOL_KEY_PREFIX + pool,
      plan.limit,
      plan.windowMs,
      cost,
    );
    return { allowed: allowed === 1, limit: plan.limit, remaining, resetMs, retryAfterMs };
  }
}
