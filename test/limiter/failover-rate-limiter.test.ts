/** FailoverRateLimiter with injected fakes: which limiter decides, what is counted and logged. */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { FailoverRateLimiter } from "../../src/app/failover-rate-limiter.js";
import { AppError } from "../../src/domain/errors.js";
import { createMetrics } from "../../src/metrics.js";
import type { RateLimitDecision, RateLimiter } from "../../src/ports/rate-limiter.js";

/** A primary that fails while `down` is set, like a Redis connection that is gone. */
class SwitchableLimiter implements RateLimiter {
  down = false;
  readonly inner = new MemoryRateLimiter();
  async consume(...args: Parameters<RateLimiter["consume"]>): Promise<RateLimitDecision> {
    if (this.down) throw new Error("Connection is closed.");
    return this.inner.consume(...args);
  }
}

function setup(failClosed: boolean) {
  const primary = new SwitchableLimiter();
  const fallback = new MemoryRateLimiter();
  const metrics = createMetrics();
  const logs: { level: string; msg: string }[] = [];
  const logger = pino({ formatters: { level: (level) => ({ level }) } }, {
    write: (line: string) => void logs.push(JSON.parse(line)),
  });
  const limiter = new FailoverRateLimiter({ primary, fallback, failClosed, logger, metrics });
  const counted = async () => {
    const json = await metrics.registry.getMetricsAsJSON();
    const value = (name: string) => json.find((m) => m.name === name)?.values[0]?.value ?? 0;
    return {
      fallback: value("keyward_rate_limiter_fallback_total"),
      unavailable: value("keyward_rate_limiter_unavailable_total"),
    };
  };
  return { primary, limiter, logs, counted };
}

const plan = { limit: 3, windowMs: 3_600_000 };

describe("FailoverRateLimiter", () => {
  it("decides with the primary while it answers", async () => {
    const { limiter, logs, counted } = setup(false);
    expect(await limiter.consume("org:a:live", plan, 1)).toMatchObject({ allowed: true, remaining: 2 });
    expect(await counted()).toEqual({ fallback: 0, unavailable: 0 });
    expect(logs).toEqual([]);
  });

  it("fails open to the local limiter, counts every such decision, warns once, and returns", async () => {
    const { primary, limiter, logs, counted } = setup(false);
    await limiter.consume("org:a:live", plan, 1);
    primary.down = true;
    const local = [];
    for (let i = 0; i < 4; i++) local.push(await limiter.consume("org:a:live", plan, 1));
    // The local limiter counts the pool on its own: exact within this process.
    expect(local.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(await counted()).toEqual({ fallback: 4, unavailable: 0 });
    expect(logs.filter((l) => l.level === "warn")).toHaveLength(1);

    primary.down = false;
    // Back on the primary, which remembers its own count (1 used).
    expect(await limiter.consume("org:a:live", plan, 1)).toMatchObject({ allowed: true, remaining: 1 });
    expect(await counted()).toEqual({ fallback: 4, unavailable: 0 });
    expect(logs.map((l) => l.level)).toEqual(["warn", "info"]);
  });

  it("fails closed with UNAVAILABLE when configured, never allowing", async () => {
    const { primary, limiter, counted } = setup(true);
    primary.down = true;
    for (let i = 0; i < 3; i++) {
      const refused = limiter.consume("org:a:live", plan, 1);
      await expect(refused).rejects.toBeInstanceOf(AppError);
      await expect(refused).rejects.toMatchObject({ code: "unavailable" });
    }
    expect(await counted()).toEqual({ fallback: 0, unavailable: 3 });
    primary.down = false;
    expect(await limiter.consume("org:a:live", plan, 1)).toMatchObject({ allowed: true });
  });
});
