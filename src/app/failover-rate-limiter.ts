import type { Logger } from "pino";
import type { RateLimitPlan } from "../domain/api-key.js";
import { AppError } from "../domain/errors.js";
import type { Metrics } from "../metrics.js";
import type { RateLimitDecision, RateLimiter } from "../ports/rate-limiter.js";

export interface FailoverRateLimiterOptions {
  /** The shared limiter (Redis), exact across replicas; asked first, every time. */
  primary: RateLimiter;
  /** Decides while the primary fails: exact within this process only. */
  fallback: RateLimiter;
  /** True: while the primary fails, refuse to decide (UNAVAILABLE) instead of using the fallback. */
  failClosed: boolean;
  /** Warned once when the primary starts failing, told when it is back. */
  logger: Pick<Logger, "info" | "warn">;
  metrics: Pick<Metrics, "rateLimiterFallbacks" | "rateLimiterUnavailable" | "redisDuration">;
}

/**
 * A limiter that survives its shared store: each decision goes to the
 * primary; when that fails, the fallback answers (fail-open, counted in
 * metrics) or the call is refused with UNAVAILABLE (fail-closed) — never
 * "allowed" unchecked. The next decision tries the primary again, so the
 * service is back on Redis as soon as Redis answers. The primary must fail
 * fast while down (see openRedis), since nothing here waits on it.
 */
export class FailoverRateLimiter implements RateLimiter {
  private degraded = false;

  constructor(private readonly options: FailoverRateLimiterOptions) {}

  async consume(pool: string, plan: RateLimitPlan, cost: number): Promise<RateLimitDecision> {
    const { primary, fallback, failClosed, logger, metrics } = this.options;
    let decision: RateLimitDecision;
    const started = performance.now();
    try {
      decision = await primary.consume(pool, plan, cost);
      metrics.redisDuration.observe({ operation: "rate_limit", outcome: "ok" }, (performance.now() - started) / 1000);
    } catch (error) {
      metrics.redisDuration.observe({ operation: "rate_limit", outcome: "error" }, (performance.now() - started) / 1000);
      this.markDegraded(error);
      if (failClosed) {
        metrics.rateLimiterUnavailable.inc();
        throw new AppError("unavailable", "the rate limiter is unavailable");
      }
      metrics.rateLimiterFallbacks.inc();
      return fallback.consume(pool, plan, cost);
    }
    if (this.degraded) {
      this.degraded = false;
      logger.info("rate limiter: Redis answers again; decisions are shared across replicas again");
    }
    return decision;
  }

  private markDegraded(error: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    this.options.logger.warn(
      { err: { name, message }, failClosed: this.options.failClosed },
      this.options.failClosed
        ? "rate limiter: Redis failed; refusing to decide (UNAVAILABLE) until it is back"
        : "rate limiter: Redis failed; deciding with the in-process limiter (exact per replica only) until it is back",
    );
  }
}
