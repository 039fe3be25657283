/**
 * The service's Prometheus metrics, served at GET /metrics on the HTTP port.
 * One registry per service instance, passed in where counted, so several
 * instances in one process (tests) never share or collide.
 */
import { Counter, Registry, collectDefaultMetrics } from "prom-client";

export interface Metrics {
  /** Everything below, plus the Node.js process metrics. */
  registry: Registry;
  /** Rate-limit decisions answered by the in-process limiter because Redis failed. */
  rateLimiterFallbacks: Counter;
  /** Rate-limit decisions refused (UNAVAILABLE) because Redis failed and fail-closed is set. */
  rateLimiterUnavailable: Counter;
  /** Verify verdicts by code (OK, INVALID_CREDENTIALS, RATE_LIMITED, ...). */
  verdicts: Counter<"code">;
  /** Verify answers served from a cache entry past its TTL because storage failed. */
  cacheStaleServed: Counter;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    rateLimiterFallbacks: new Counter({
      name: "keyward_rate_limiter_fallback_total",
      help: "Rate-limit decisions taken by the in-process limiter because Redis failed (exact per replica only).",
      registers: [registry],
    }),
    rateLimiterUnavailable: new Counter({
      name: "keyward_rate_limiter_unavailable_total",
      help: "Verify calls answered UNAVAILABLE because Redis failed and KEYWARD_RATE_LIMIT_FAIL_CLOSED is set.",
      registers: [registry],
    }),
    verdicts: new Counter({
      name: "keyward_verify_verdicts_total",
      help: "Verify verdicts answered over RPC, by code.",
      labelNames: ["code"],
      registers: [registry],
    }),
    cacheStaleServed: new Counter({
      name: "keyward_cache_stale_served_total",
      help: "Verify lookups answered from a cache entry past its TTL because storage could not be reached.",
      registers: [registry],
    }),
  };
}
