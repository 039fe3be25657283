/**
 * The rate-limit algorithm: GCRA in its "leaky bucket as a meter" form. A
 * pool's level drains continuously at limit/window units per millisecond; a
 * request of `cost` units fits when level + cost <= limit. It needs one small
 * state per pool, allows a burst of exactly `limit` at once, then admits
 * units only as fast as they drain (limit per window). Pure: the Redis
 * adapter runs the same arithmetic in Lua.
 */
import type { RateLimitPlan } from "./api-key.js";
import type { RateLimitState } from "./verdict.js";

export interface BucketState {
  /** Units in the bucket at `atMs`. */
  level: number;
  atMs: number;
}

export interface BucketResult extends RateLimitState {
  allowed: boolean;
  /** The state to keep (unchanged when denied). */
  next: BucketState;
}

/** Guards the integer comparisons against floating-point drain residue. */
const EPSILON = 1e-9;

export function meter(
  state: BucketState | null,
  nowMs: number,
  plan: RateLimitPlan,
  cost: number,
): BucketResult {
  const { limit, windowMs } = plan;
  const elapsed = state ? Math.max(0, nowMs - state.atMs) : 0;
  const level = state ? Math.max(0, state.level - (elapsed * limit) / windowMs) : 0;
  const allowed = level + cost <= limit + EPSILON;
  const after = allowed ? level + cost : level;
  const msPerUnit = windowMs / limit;
  return {
    allowed,
    next: { level: after, atMs: nowMs },
    limit,
    remaining: Math.max(0, Math.floor(limit - after + EPSILON)),
    resetMs: Math.ceil(after * msPerUnit - EPSILON),
    retryAfterMs: allowed ? 0 : Math.max(1, Math.ceil((level + cost - limit) * msPerUnit - EPSILON)),
  };
}
