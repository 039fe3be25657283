/**
 * Usage analytics: a key's verdicts counted per hour, and read back as
 * buckets of an hour or a UTC day. Pure: no I/O.
 */
import { invalidArgument } from "./errors.js";

/** One key's verdicts in one hour. */
export interface UsageCount {
  keyId: string;
  organizationId: string;
  /** The start of the hour (UTC, a whole hour). */
  hour: Date;
  allowed: number;
  denied: number;
  /** Denials by verdict code (`RATE_LIMITED`, ...); sums to `denied`. */
  deniedByCode: Record<string, number>;
}

export type UsageGranularity = "hour" | "day";

/** Verdicts in [start, start + one granularity). */
export interface UsageBucket {
  start: Date;
  allowed: number;
  denied: number;
  deniedByCode: Record<string, number>;
}

export const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The longest range one read covers: 90 days (2160 hourly buckets). */
export const MAX_USAGE_RANGE_MS = 90 * DAY_MS;
/** The range when none is given: a day of hours, or 30 days. */
const DEFAULT_RANGE_MS: Readonly<Record<UsageGranularity, number>> = { hour: DAY_MS, day: 30 * DAY_MS };
const WIDTH_MS: Readonly<Record<UsageGranularity, number>> = { hour: HOUR_MS, day: DAY_MS };

/** The start of the hour `time` (ms) falls in. */
export function hourOf(time: number): number {
  return time - (((time % HOUR_MS) + HOUR_MS) % HOUR_MS);
}

/** Adds `more` into `into` (same key and hour). */
export function addCounts(into: UsageCount | UsageBucket, more: Pick<UsageCount, "allowed" | "denied" | "deniedByCode">): void {
  into.allowed += more.allowed;
  into.denied += more.denied;
  for (const [code, n] of Object.entries(more.deniedByCode)) {
    into.deniedByCode[code] = (into.deniedByCode[code] ?? 0) + n;
  }
}

/** What a read of usage asks for; every part may be left out. */
export interface UsageQuery {
  /** Absent: a day (hours) or 30 days (days) before `end`. */
  start?: Date | null;
  /** Absent: now. */
  end?: Date | null;
  /** Absent: hour. */
  granularity?: UsageGranularity;
}

export interface UsageRange {
  /** The first bucket's start. */
  start: Date;
  /** The end of the last bucket (exclusive). */
  end: Date;
  granularity: UsageGranularity;
}

/**
 * The buckets a read covers: `start` rounded down and `end` rounded up to
 * whole buckets (UTC), `end` defaulting to now and `start` to a day (hours)
 * or 30 days (days) before it; at most 90 days.
 */
export function usageRange(query: UsageQuery, now: Date): UsageRange {
  const granularity = query.granularity ?? "hour";
  const end = query.end ?? now;
  const start = query.start ?? new Date(end.getTime() - DEFAULT_RANGE_MS[granularity]);
  if (start >= end) throw invalidArgument("start", "must be before end");
  if (end.getTime() - start.getTime() > MAX_USAGE_RANGE_MS) {
    throw invalidArgument("end", "must be at most 90 days after start");
  }
  const width = WIDTH_MS[granularity];
  const floor = (t: number) => t - (((t % width) + width) % width);
  const first = floor(start.getTime());
  const last = floor(end.getTime() - 1) + width;
  return { start: new Date(first), end: new Date(last), granularity };
}

/** Every bucket of the range, oldest first, empty ones included, from the key's hourly counts. */
export function usageBuckets(range: UsageRange, hours: readonly UsageCount[]): UsageBucket[] {
  const width = WIDTH_MS[range.granularity];
  const first = range.start.getTime();
  const buckets: UsageBucket[] = [];
  for (let start = first; start < range.end.getTime(); start += width) {
    buckets.push({ start: new Date(start), allowed: 0, denied: 0, deniedByCode: {} });
  }
  for (const hour of hours) {
    const bucket = buckets[Math.floor((hour.hour.getTime() - first) / width)];
    if (bucket) addCounts(bucket, hour);
  }
  return buckets;
}
