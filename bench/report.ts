/**
 * The bench's answer: one row per scenario and protocol, the targets checked
 * against the baselines measured in the same run, printed as a table and
 * written as JSON (bench/results/<timestamp>.json and latest.json).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { GcStats } from "./resources.js";
import type { LoadResult } from "./stats.js";

/** Targets (issue #15): reported, never asserted. */
export const TARGETS = {
  /** Verify's max throughput ÷ raw node:http2's, same protocol. */
  minRatioToRaw: 0.35,
  /** Check's max throughput ÷ Verify's ("within 10%"). */
  minCheckRatioToVerify: 0.9,
  /** p99 at half of Verify's max: at most this many times raw http2's p99 at the same rate... */
  maxP99RatioToRaw: 3,
  /** ...or at most this, whichever is larger. */
  maxP99AtHalfMs: 2,
  /** p50 with one request at a time. */
  maxUnloadedP50Ms: 0.3,
} as const;

export type LoadKind = "throughput" | "unloaded" | "half";

/** One load run of one server. */
export interface RunRecord {
  scenario: string;
  protocol: string;
  load: LoadKind;
  generator: "h2load" | "node";
  clients: number;
  streams: number;
  /** Paced runs: the total rate asked for. */
  targetRps: number | null;
  /** Throughput runs: req/s of each round; `result` is the best round. */
  rounds?: number[];
  result: LoadResult;
  /** CPU the run cost (warm-up included, at the same rate), and the server's GC pauses. */
  resources: Resources;
}

export interface Resources {
  /** Average cores the server process (with its workers) used. */
  serverCores: number | null;
  serverUsPerRequest: number | null;
  /** Redis's CPU per request (the rate limiter's Lua script, the connection). */
  redisUsPerRequest: number | null;
  /** Bytes the server's JavaScript heap allocated per request (see monitorGc). */
  bytesPerRequest: number | null;
  gc: GcStats | null;
  /** Seconds the resources were metered over (warm-up included). */
  seconds: number;
}

export interface Row {
  scenario: string;
  protocol: string;
  /** Max throughput (the throughput run). */
  reqPerSec: number | null;
  /** Unloaded p50 (c=1, m=1). */
  p50Ms: number | null;
  /** p99 at about half of Verify's max throughput. */
  p99Ms: number | null;
  /** The rate the p99 run was paced at, and what it achieved. */
  halfTargetRps: number | null;
  halfAchievedRps: number | null;
  ratioToTrivial: number | null;
  ratioToRaw: number | null;
  /** Server CPU per request in the throughput run (µs), and Redis's. */
  serverUsPerRequest: number | null;
  redisUsPerRequest: number | null;
  /** p99 at half load ÷ raw http2's p99 at the same rate. */
  p99RatioToRaw: number | null;
  /** Heap bytes allocated per request in the throughput run. */
  bytesPerRequest: number | null;
  /** Full (mark-compact) and minor GCs per 10 s, and the longest pause, during the p99 run. */
  halfMajorGcsPer10s: number | null;
  halfMinorGcsPer10s: number | null;
  halfMaxGcPauseMs: number | null;
  targets: { throughput: boolean | null; p99: boolean | null; p50: boolean | null } | null;
}

/** The scenario names the ratios are taken against. */
export const TRIVIAL = "trivial-connect";
export const RAW = "raw-http2";

/** A scenario's throughput target: at least `minRatio` times `baseline`'s on the same protocol. */
export interface ThroughputTarget {
  baseline: string;
  minRatio: number;
}

/** `targetOf`: the throughput target of the scenarios whose targets are checked, else null. */
export function buildRows(runs: readonly RunRecord[], targetOf: (scenario: string) => ThroughputTarget | null): Row[] {
  const find = (scenario: string, protocol: string, load: LoadKind): RunRecord | undefined =>
    runs.find((r) => r.scenario === scenario && r.protocol === protocol && r.load === load);
  const rows: Row[] = [];
  const seen = new Set<string>();
  for (const run of runs) {
    const id = `${run.scenario}\u0000${run.protocol}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const throughputRun = find(run.scenario, run.protocol, "throughput");
    const throughput = throughputRun?.result.reqPerSec ?? null;
    const unloaded = find(run.scenario, run.protocol, "unloaded")?.result.p50Ms ?? null;
    const half = find(run.scenario, run.protocol, "half");
    // Only runs of the same generator compare: the Node one costs the shared CPUs more.
    const ratio = (baseline: string): number | null => {
      const base = find(baseline, run.protocol, "throughput");
      if (!base || throughputRun?.generator !== base.generator) return null;
      return throughput !== null && base.result.reqPerSec ? round(throughput / base.result.reqPerSec, 3) : null;
    };
    const ratioToTrivial = ratio(TRIVIAL);
    const ratioToRaw = ratio(RAW);
    const p99 = half?.result.p99Ms ?? null;
    const rawP99 = find(RAW, run.protocol, "half")?.result.p99Ms ?? null;
    const target = targetOf(run.scenario);
    const gc = half?.resources.gc ?? null;
    const per10s = (count: number | undefined): number | null =>
      count === undefined || !half ? null : round((count * 10) / half.resources.seconds, 1);
    rows.push({
      scenario: run.scenario,
      protocol: run.protocol,
      reqPerSec: throughput,
      p50Ms: unloaded,
      p99Ms: p99,
      halfTargetRps: half?.targetRps ?? null,
      halfAchievedRps: half?.result.reqPerSec ?? null,
      ratioToTrivial,
      ratioToRaw,
      p99RatioToRaw: p99 !== null && rawP99 ? round(p99 / rawP99, 2) : null,
      serverUsPerRequest: throughputRun?.resources.serverUsPerRequest ?? null,
      redisUsPerRequest: throughputRun?.resources.redisUsPerRequest ?? null,
      bytesPerRequest: throughputRun?.resources.bytesPerRequest ?? null,
      halfMajorGcsPer10s: per10s(gc?.major),
      halfMinorGcsPer10s: per10s(gc?.minor),
      halfMaxGcPauseMs: gc ? round(gc.maxPauseMs, 1) : null,
      targets: target
        ? {
            throughput: ((r) => (r === null ? null : r >= target.minRatio))(ratio(target.baseline)),
            p99: p99 === null ? null : p99 <= Math.max(TARGETS.maxP99AtHalfMs, TARGETS.maxP99RatioToRaw * (rawP99 ?? 0)),
            p50: unloaded === null ? null : unloaded <= TARGETS.maxUnloadedP50Ms,
          }
        : null,
    });
  }
  return rows;
}

export function formatTable(rows: readonly Row[]): string {
  const header = [
    "scenario",
    "protocol",
    "req/s",
    "p50 ms",
    "p99 ms @ rps",
    "x raw",
    "x trivial",
    "p99 x raw",
    "CPU µs/req",
    "KB/req",
    "GCs/10s full+minor (max ms)",
    "targets: >=0.35x raw (check: >=0.9x verify) / p99<=max(3x raw,2ms) / p50<=0.3ms",
  ];
  const mark = (ok: boolean | null): string => (ok === null ? "-" : ok ? "yes" : "NO");
  const body = rows.map((row) => [
    row.scenario,
    row.protocol,
    row.reqPerSec === null ? "-" : String(Math.round(row.reqPerSec)),
    row.p50Ms === null ? "-" : row.p50Ms.toFixed(3),
    row.p99Ms === null ? "-" : `${row.p99Ms.toFixed(3)} @ ${Math.round(row.halfAchievedRps ?? 0)}`,
    row.ratioToRaw === null ? "-" : row.ratioToRaw.toFixed(3),
    row.ratioToTrivial === null ? "-" : row.ratioToTrivial.toFixed(2),
    row.p99RatioToRaw === null ? "-" : row.p99RatioToRaw.toFixed(2),
    row.serverUsPerRequest === null
      ? "-"
      : `${Math.round(row.serverUsPerRequest)}${row.redisUsPerRequest && row.redisUsPerRequest >= 1 ? ` +${Math.round(row.redisUsPerRequest)} redis` : ""}`,
    row.bytesPerRequest === null ? "-" : (row.bytesPerRequest / 1024).toFixed(1),
    row.halfMajorGcsPer10s === null ? "-" : `${row.halfMajorGcsPer10s}+${row.halfMinorGcsPer10s} (${row.halfMaxGcPauseMs})`,
    row.targets ? `${mark(row.targets.throughput)} / ${mark(row.targets.p99)} / ${mark(row.targets.p50)}` : "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] ?? "").length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

/** Writes `<prefix><timestamp>.json` and `<prefix>latest.json`; answers the first's path. */
export async function writeResults(dir: string, startedAt: Date, report: object, prefix = ""): Promise<string> {
  await mkdir(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const file = join(dir, `${prefix}${stamp}.json`);
  await writeFile(file, text);
  await writeFile(join(dir, `${prefix}latest.json`), text);
  return file;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
