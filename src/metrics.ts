/**
 * The service's Prometheus metrics, served at GET /metrics on the HTTP port.
 * One registry per service instance, passed in where counted, so several
 * instances in one process (tests) never share or collide. No label ever
 * holds a credential, hash, hint or header value: only codes, routes and
 * names this file lists. What every Verify counts is kept by the Hot*
 * metrics (src/hot-metrics.ts), which scrape as prom-client's own.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { HotCounter, HotHistogram } from "./hot-metrics.js";

/** Seconds; from 0.1 ms (a cache hit) to 5 s (a storage deadline). */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface Metrics {
  /** Everything below, plus the Node.js process metrics. */
  registry: Registry;
  /** Rate-limit decisions answered by the in-process limiter because Redis failed. */
  rateLimiterFallbacks: Counter;
  /** Rate-limit decisions refused (UNAVAILABLE) because Redis failed and fail-closed is set. */
  rateLimiterUnavailable: Counter;
  /** Verify verdicts by code and transport, counted in the use case: every door counts. */
  verdicts: HotCounter<"code" | "transport">;
  /** Verify's own time, by transport and code. */
  verifyDuration: HotHistogram<"transport" | "code">;
  /** Whole requests as their transport saw them: REST routes, RPC procedures, gateway doors. */
  requestDuration: HotHistogram<"transport" | "route" | "status">;
  /** Verify answers served from a cache entry past its TTL because storage failed. */
  cacheStaleServed: Counter;
  /** Verification cache lookups: hit (fresh entry), stale (refreshed or past TTL), miss (went to storage). */
  cacheLookups: HotCounter<"cache" | "result">;
  /** MongoDB operations by name and outcome (ok, error, timeout). */
  storageDuration: Histogram<"operation" | "outcome">;
  /** Redis calls by name and outcome (ok, error). */
  redisDuration: HotHistogram<"operation" | "outcome">;
  /** 1 while a dependency answers, 0 while it does not; asked on every scrape. */
  dependencyUp: Gauge<"dependency">;
  /** Sets what `keyward_dependency_up` asks on each scrape. */
  probeDependencies(probe: DependencyProbe): void;
}

/** Answers whether each dependency is up; asked on every scrape. */
export type DependencyProbe = () => Promise<Record<string, boolean>>;

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let probe: DependencyProbe = async () => ({});
  return {
    probeDependencies: (next) => {
      probe = next;
    },
    registry,
    rateLimiterFallbacks: new Counter({
      name: "keyward_rate_limiter_fallback_total",
      help: "Rate-limit decisions taken by the in-process limiter because Redis failed (exact per replica only).",
      registers,
    }),
    rateLimiterUnavailable: new Counter({
      name: "keyward_rate_limiter_unavailable_total",
      help: "Verify calls answered UNAVAILABLE because Redis failed and KEYWARD_RATE_LIMIT_FAIL_CLOSED is set.",
      registers,
    }),
    verdicts: new HotCounter({
      name: "keyward_verify_verdicts_total",
      help: "Verify verdicts by code and by the transport they came through (rpc, rest, forward_auth, ext_authz).",
      labelNames: ["code", "transport"],
      registers,
    }),
    verifyDuration: new HotHistogram(
      {
        name: "keyward_verify_duration_seconds",
        help: "Time Verify took to decide, by transport and verdict code (UNAVAILABLE when it could not decide).",
        labelNames: ["transport", "code"],
        registers,
      },
      LATENCY_BUCKETS,
    ),
    requestDuration: new HotHistogram(
      {
        name: "keyward_request_duration_seconds",
        help: "Requests by transport, route (REST route template or RPC procedure) and status (HTTP status or RPC code).",
        labelNames: ["transport", "route", "status"],
        registers,
      },
      LATENCY_BUCKETS,
    ),
    cacheStaleServed: new Counter({
      name: "keyward_cache_stale_served_total",
      help: "Verify lookups answered from a cache entry past its TTL because storage could not be reached.",
      registers,
    }),
    cacheLookups: new HotCounter({
      name: "keyward_cache_lookups_total",
      help: "Verification cache lookups by cache (key, organization) and result (hit, stale, miss).",
      labelNames: ["cache", "result"],
      registers,
    }),
    storageDuration: new Histogram({
      name: "keyward_storage_operation_duration_seconds",
      help: "MongoDB operations by operation and outcome (ok, error, timeout).",
      labelNames: ["operation", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    redisDuration: new HotHistogram(
      {
        name: "keyward_redis_operation_duration_seconds",
        help: "Redis calls by operation and outcome (ok, error).",
        labelNames: ["operation", "outcome"],
        registers,
      },
      LATENCY_BUCKETS,
    ),
    dependencyUp: new Gauge({
      name: "keyward_dependency_up",
      help: "1 while a dependency (mongodb, redis) answers, else 0; asked at scrape time.",
      labelNames: ["dependency"],
      registers,
      async collect() {
        for (const [dependency, up] of Object.entries(await probe())) this.set({ dependency }, up ? 1 : 0);
      },
    }),
  };
}
