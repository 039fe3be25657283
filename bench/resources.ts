/**
 * What a run cost the machine, beside what it delivered: CPU seconds of a
 * server process (and its cluster workers) from /proc, Redis's own CPU from
 * INFO, and the GC pauses a bench server saw (reported over IPC, see
 * monitorGc). CPU per request stays comparable when the load generator and
 * Redis compete with the server for the same 2 cores; req/s does not.
 */
import { readFileSync, readdirSync } from "node:fs";
import { PerformanceObserver, constants } from "node:perf_hooks";
import v8 from "node:v8";
import { Redis } from "ioredis";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of a process and its direct children (cluster workers), in seconds; null off Linux. */
export function processCpuSeconds(pid: number): number | null {
  try {
    let ticks = cpuTicks(pid);
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const fields = statFields(Number(entry));
        if (Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // gone meanwhile
      }
    }
    return ticks / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

function cpuTicks(pid: number): number {
  const fields = statFields(pid);
  return Number(fields[11]) + Number(fields[12]);
}

/** /proc/<pid>/stat after the command name: state, ppid, ..., utime (index 11), stime (12). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** The CPU seconds of several Redis nodes together (a cluster), or null when one cannot tell. */
export async function redisCpuTotal(urls: readonly string[]): Promise<number | null> {
  const each = await Promise.all(urls.map(redisCpuSeconds));
  return each.some((s) => s === null) ? null : each.reduce<number>((sum, s) => sum + (s ?? 0), 0);
}

/**
 * A Redis round trip from Node over ioredis (no auto-pipeline), one PING at
 * a time after a warm-up, percentiles in ms: `hot`, back to back; `idle`,
 * each after 1 ms of idleness, as an unloaded Verify finds Redis.
 */
export async function redisRoundTripMs(url: string, count = 1_000): Promise<{ hot: Percentiles; idle: Percentiles }> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableAutoPipelining: false });
  const measure = async (pause: boolean): Promise<Percentiles> => {
    const ms: number[] = [];
    for (let i = 0; i < count; i++) {
      if (pause) await new Promise((resolve) => setTimeout(resolve, 1));
      const started = performance.now();
      await redis.ping();
      ms.push(performance.now() - started);
    }
    ms.sort((a, b) => a - b);
    const at = (q: number): number => Math.round((ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)] ?? 0) * 1000) / 1000;
    return { p50Ms: at(0.5), p99Ms: at(0.99) };
  };
  try {
    await redis.connect();
    for (let i = 0; i < 200; i++) await redis.ping();
    return { hot: await measure(false), idle: await measure(true) };
  } finally {
    redis.disconnect();
  }
}

export interface Percentiles {
  p50Ms: number;
  p99Ms: number;
}

/** Redis's used_cpu_user + used_cpu_sys, in seconds. */
export async function redisCpuSeconds(url: string): Promise<number | null> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await redis.connect();
    const info = await redis.info("cpu");
    const read = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? Number.NaN);
    const total = read("used_cpu_user") + read("used_cpu_sys");
    return Number.isFinite(total) ? total : null;
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}

export interface GcStats {
  /** Young-generation collections (scavenges). */
  minor: number;
  /** Full collections (mark-compact). */
  major: number;
  /** Longest single pause, ms. */
  maxPauseMs: number;
  /** Sum of the pauses, ms. */
  totalPauseMs: number;
  /**
   * Bytes the JavaScript heap allocated: what each GC freed plus the growth
   * in between (v8.GCProfiler's heap sizes before and after every GC).
   */
  allocatedBytes: number;
}

/**
 * In a bench server: count GC pauses, and answer `{type: "gc-stats"}` over
 * IPC with the counts since the last question.
 */
export function monitorGc(): void {
  const fresh = (): GcStats => ({ minor: 0, major: 0, maxPauseMs: 0, totalPauseMs: 0, allocatedBytes: 0 });
  let stats = fresh();
  let allocation = startAllocationCount();
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) stats.major++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) stats.minor++;
      stats.maxPauseMs = Math.max(stats.maxPauseMs, entry.duration);
      stats.totalPauseMs += entry.duration;
    }
  }).observe({ entryTypes: ["gc"] });
  process.on("message", (message: { type?: string }) => {
    if (message.type !== "gc-stats") return;
    stats.allocatedBytes = allocation();
    process.send?.({ type: "gc-stats", stats });
    stats = fresh();
    allocation = startAllocationCount();
  });
}

/** Starts counting the heap's allocation; the returned function stops and answers the bytes. */
function startAllocationCount(): () => number {
  const profiler = new v8.GCProfiler();
  let previous = v8.getHeapStatistics().used_heap_size;
  profiler.start();
  return () => {
    const now = v8.getHeapStatistics().used_heap_size;
    let bytes = 0;
    for (const gc of profiler.stop()?.statistics ?? []) {
      bytes += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - previous);
      previous = gc.afterGC.heapStatistics.usedHeapSize;
    }
    return bytes + Math.max(0, now - previous);
  };
}
