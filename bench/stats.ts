/** One load run's numbers, whichever generator produced them. */
export interface LoadResult {
  reqPerSec: number;
  /** Requests completed in the measured period. */
  requests: number;
  /** Requests that did not complete with a success (HTTP non-2xx, reset, timeout). */
  failed: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function summarizeLatencies(
  latenciesUs: readonly number[],
): Pick<LoadResult, "p50Ms" | "p90Ms" | "p99Ms" | "meanMs" | "maxMs"> {
  const sorted = Float64Array.from(latenciesUs).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  const ms = (us: number): number => Math.round(us) / 1000;
  return {
    p50Ms: ms(percentile(sorted, 50)),
    p90Ms: ms(percentile(sorted, 90)),
    p99Ms: ms(percentile(sorted, 99)),
    meanMs: ms(sorted.length ? sum / sorted.length : Number.NaN),
    maxMs: ms(sorted[sorted.length - 1] ?? Number.NaN),
  };
}
