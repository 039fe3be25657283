import type { RateLimitPlan } from "../domain/api-key.js";
import type { RateLimitState } from "../domain/verdict.js";

export interface RateLimitDecision extends RateLimitState {
  allowed: boolean;
}

/**
 * Counts units against named pools. A denied request charges nothing.
 * Implementations must be exact under concurrency.
 */
export interface RateLimiter {
  consume(pool: string, plan: RateLimitPlan, cost: number): Promise<RateLimitDecision>;
}
