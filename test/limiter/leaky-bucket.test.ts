/** The rate-limit arithmetic (GCRA as a metered leaky bucket) on an exact, injected clock. */
import { describe, expect, it } from "vitest";
import type { BucketState } from "../../src/domain/leaky-bucket.js";
import { meter } from "../../src/domain/leaky-bucket.js";

describe("meter (GCRA)", () => {
  const plan = { limit: 4, windowMs: 1000 }; // one unit drains every 250 ms

  it("gives exact remaining, reset and retry-after", () => {
    let state: BucketState | null = null;
    const at = (nowMs: number, cost = 1) => {
      const result = meter(state, nowMs, plan, cost);
      state = result.next;
      const { next: _next, ...rest } = result;
      return rest;
    };
    expect(at(0, 3)).toEqual({ allowed: true, limit: 4, remaining: 1, resetMs: 750, retryAfterMs: 0 });
    expect(at(0, 2)).toEqual({ allowed: false, limit: 4, remaining: 1, resetMs: 750, retryAfterMs: 250 });
    expect(at(249, 2).allowed).toBe(false);
    expect(at(250, 2)).toEqual({ allowed: true, limit: 4, remaining: 0, resetMs: 1000, retryAfterMs: 0 });
    expect(at(1250)).toEqual({ allowed: true, limit: 4, remaining: 3, resetMs: 250, retryAfterMs: 0 });
  });

  it("admits a burst of `limit`, then the steady rate — no more in any window", () => {
    // Arrivals every 7 ms for 10 windows; count allowed units in every window-long span.
    const allowedAt: number[] = [];
    let state: BucketState | null = null;
    for (let now = 0; now < 10_000; now += 7) {
      const result = meter(state, now, plan, 1);
      state = result.next;
      if (result.allowed) allowedAt.push(now);
    }
    for (const start of allowedAt) {
      const inWindow = allowedAt.filter((t) => t >= start && t < start + plan.windowMs).length;
      // GCRA's bound: a full burst plus what drains meanwhile, limit + limit·(window−ε)/window.
      expect(inWindow).toBeLessThanOrEqual(2 * plan.limit - 1);
    }
    // Sustained: one unit per 250 ms after the opening burst.
    expect(allowedAt.length).toBeGreaterThanOrEqual(plan.limit + 39);
    expect(allowedAt.length).toBeLessThanOrEqual(plan.limit + 40);
  });
});
