/**
 * The RateLimiter contract: the in-process and the Redis limiter must give
 * the same verdicts, so they cannot drift apart. Plans with a 1 h window keep
 * values steady while a test runs on a real clock (a unit drains in minutes);
 * the refill cases use short windows and wait by polling, bounded.
 */
import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import type { RateLimitPlan } from "../../src/domain/api-key.js";
import type { RateLimitDecision, RateLimiter } from "../../src/ports/rate-limiter.js";

export interface LimiterHarness {
  limiter: RateLimiter;
  /** Lets `ms` pass: a fake clock jumps; a real one is waited for. */
  pause(ms: number): Promise<void>;
}

const HOUR = 3_600_000;
/** How far a real clock may move a 1 h window's reset during one test. */
const SLACK_MS = 2_000;

export function rateLimiterContract(name: string, open: () => Promise<LimiterHarness>): void {
  describe(`RateLimiter contract: ${name}`, () => {
    let harness: LimiterHarness;
    let pool: string;

    beforeEach(async () => {
      harness = await open();
      pool = `org:${randomUUID()}:live`;
    });

    const consume = (plan: RateLimitPlan, cost = 1, name = pool) => harness.limiter.consume(name, plan, cost);

    /** Polls (denied polls charge nothing) until allowed; fails after `attempts`. */
    async function untilAllowed(plan: RateLimitPlan, cost = 1, attempts = 100): Promise<RateLimitDecision> {
      for (let i = 0; i < attempts; i++) {
        const decision = await consume(plan, cost);
        if (decision.allowed) return decision;
        await harness.pause(Math.max(10, Math.min(decision.retryAfterMs, 100)));
      }
      throw new Error(`still denied after ${attempts} attempts`);
    }

    it("allows up to the limit, then denies", async () => {
      const plan = { limit: 5, windowMs: HOUR };
      const remaining: number[] = [];
      for (let i = 0; i < 5; i++) {
        const decision = await consume(plan);
        expect(decision.allowed).toBe(true);
        remaining.push(decision.remaining);
      }
      expect(remaining).toEqual([4, 3, 2, 1, 0]);
      const denied = await consume(plan);
      expect(denied).toMatchObject({ allowed: false, limit: 5, remaining: 0 });
    });

    it("reports limit, remaining, reset and retry-after", async () => {
      const plan = { limit: 10, windowMs: HOUR }; // one unit drains every 360 s
      const first = await consume(plan, 3);
      expect(first).toMatchObject({ allowed: true, limit: 10, remaining: 7, retryAfterMs: 0 });
      // Reset: when the bucket is empty again, 3 units × 360 s.
      expect(first.resetMs).toBeLessThanOrEqual(3 * 360_000);
      expect(first.resetMs).toBeGreaterThan(3 * 360_000 - SLACK_MS);

      await consume(plan, 7);
      const denied = await consume(plan, 2);
      expect(denied).toMatchObject({ allowed: false, limit: 10, remaining: 0 });
      // Two units must drain first.
      expect(denied.retryAfterMs).toBeLessThanOrEqual(2 * 360_000);
      expect(denied.retryAfterMs).toBeGreaterThan(2 * 360_000 - SLACK_MS);
      expect(denied.resetMs).toBeLessThanOrEqual(HOUR);
      expect(denied.resetMs).toBeGreaterThan(HOUR - SLACK_MS);
    });

    it("charges a cost above 1 in full, and denies what does not fit", async () => {
      const plan = { limit: 10, windowMs: HOUR };
      expect(await consume(plan, 4)).toMatchObject({ allowed: true, remaining: 6 });
      expect(await consume(plan, 7)).toMatchObject({ allowed: false, remaining: 6 });
      expect(await consume(plan, 6)).toMatchObject({ allowed: true, remaining: 0 });
      expect(await consume(plan, 1)).toMatchObject({ allowed: false, remaining: 0 });
    });

    it("charges nothing for a denied request", async () => {
      const plan = { limit: 3, windowMs: HOUR };
      expect(await consume(plan, 2)).toMatchObject({ allowed: true, remaining: 1 });
      for (let i = 0; i < 20; i++) {
        expect(await consume(plan, 2)).toMatchObject({ allowed: false, remaining: 1 });
      }
      expect(await consume(plan, 1)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it("keeps pools independent", async () => {
      const plan = { limit: 2, windowMs: HOUR };
      const other = `org:${randomUUID()}:test`;
      await consume(plan, 2);
      expect((await consume(plan)).allowed).toBe(false);
      expect(await consume(plan, 1, other)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await consume(plan, 1, `key:${randomUUID()}`)).toMatchObject({ allowed: true, remaining: 1 });
    });

    it("is exact under concurrency", async () => {
      const plan = { limit: 37, windowMs: HOUR };
      const decisions = await Promise.all(Array.from({ length: 100 }, () => consume(plan)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(37);
      expect(decisions.filter((d) => !d.allowed).every((d) => d.remaining === 0)).toBe(true);
    });

    it("refills as the window passes", async () => {
      const plan = { limit: 2, windowMs: 1000 }; // one unit every 500 ms
      await consume(plan, 2);
      const denied = await consume(plan);
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeGreaterThan(0);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(500);

      await harness.pause(denied.retryAfterMs);
      expect((await untilAllowed(plan)).allowed).toBe(true);
      // A full window later the whole burst fits again.
      await harness.pause(1000);
      expect(await untilAllowed(plan, 2)).toMatchObject({ allowed: true, remaining: 0 });
    });
  });
}
