import type { RateLimitPlan } from "../../domain/api-key.js";
import type { BucketState } from "../../domain/leaky-bucket.js";
import { meter } from "../../domain/leaky-bucket.js";
import type { RateLimitDecision, RateLimiter } from "../../ports/rate-limiter.js";

/**
 * The in-process limiter: exact within one process (the event loop makes
 * each decision atomic), not shared between replicas.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, BucketState & { windowMs: number }>();
  private decisions = 0;

  constructor(private readonly nowMs: () => number = Date.now) {}

  async consume(pool: string, plan: RateLimitPlan, cost: number): Promise<RateLimitDecision> {
    const now = this.nowMs();
    const result = meter(this.buckets.get(pool) ?? null, now, plan, cost);
    this.buckets.set(pool, { ...result.next, windowMs: plan.windowMs });
    if (++this.decisions % 10_000 === 0) this.sweep(now);
    const { next: _next, ...decision } = result;
    return decision;
  }

  /** Drops buckets that have drained empty, so idle pools cost no memory. */
  private sweep(now: number): void {
    for (const [pool, bucket] of this.buckets) {
      if (now - bucket.atMs >= bucket.windowMs) this.buckets.delete(pool);
    }
  }
}
