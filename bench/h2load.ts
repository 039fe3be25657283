/**
 * h2load (nghttp2) as the load generator for one fixed request: C clients
 * (one HTTP/2 connection each), M streams in flight per connection, for a
 * duration, optionally paced at a fixed rate. Throughput comes from h2load's
 * summary; percentiles from its per-request log (--log-file), which h2load
 * itself only summarizes as min/max/mean/sd.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "./processes.js";
import { summarizeLatencies } from "./stats.js";
import type { LoadResult } from "./stats.js";

export interface H2loadRun {
  url: string;
  headers: Record<string, string>;
  bodyFile: string;
  /** Connections. */
  clients: number;
  /** Streams in flight per connection (-m). */
  streams: number;
  /** Measured seconds (-D); paced runs send rate × duration requests instead. */
  durationS: number;
  /** Seconds of load before measuring (--warm-up-time); not counted. Not for paced runs. */
  warmUpS?: number;
  /** Total requests per second: paced load instead of as fast as possible (see pacedArgs). */
  rate?: number;
  /** Where the per-request log goes (deleted after reading). */
  scratchDir: string;
}

export async function h2load(run: H2loadRun): Promise<LoadResult> {
  const logFile = join(run.scratchDir, `h2load-${process.pid}-${Date.now()}.log`);
  const args = [
    "-c", String(run.clients),
    "-m", String(run.streams),
    ...(run.rate ? pacedArgs(run.rate, run.clients, run.durationS) : timedArgs(run.durationS, run.warmUpS)),
    "-d", run.bodyFile,
    "--log-file", logFile,
    ...Object.entries(run.headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]),
    run.url,
  ];
  const output = await runCommand("h2load", args);
  try {
    const summary = parseSummary(output);
    const latenciesUs = parseLog(await readFile(logFile, "utf8"));
    return {
      ...summarizeLatencies(latenciesUs),
      reqPerSec: summary.reqPerSec,
      requests: summary.done,
      failed: summary.failed + summary.errored + summary.timeout + summary.non2xx,
    };
  } finally {
    await rm(logFile, { force: true });
  }
}

function timedArgs(durationS: number, warmUpS: number | undefined): string[] {
  return [
    "-D", `${Math.round(durationS * 1000)}ms`,
    ...(warmUpS ? ["--warm-up-time", `${Math.round(warmUpS * 1000)}ms`] : []),
  ];
}

/**
 * h2load's --rps timer ticks at most every 10 ms and releases everything due
 * at once, and all clients start together: at 5,000 req/s that is a burst of
 * 50 requests every 10 ms, and p99 measures the burst. Starting the clients
 * one by one over those 10 ms (-r 1 --rate-period) interleaves their ticks,
 * so requests arrive in small groups spread over the period. -r excludes -D:
 * the run is rate × duration requests.
 */
function pacedArgs(rate: number, clients: number, durationS: number): string[] {
  const TICK_MS = 10;
  return [
    "-n", String(Math.round(rate * durationS)),
    "-r", "1",
    "--rate-period", `${Math.max(1, Math.round(TICK_MS / clients))}ms`,
    "--rps", String(Math.round((rate / clients) * 100) / 100),
  ];
}

interface Summary {
  reqPerSec: number;
  done: number;
  failed: number;
  errored: number;
  timeout: number;
  non2xx: number;
}

/** The `finished in`, `requests:` and `status codes:` lines of h2load's report. */
export function parseSummary(output: string): Summary {
  const finished = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(output);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(output);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(output);
  if (!finished || !requests || !codes) throw new Error(`cannot read h2load's report:\n${output.slice(-2000)}`);
  return {
    reqPerSec: Number(finished[1]),
    done: Number(requests[3]),
    failed: Number(requests[5]),
    errored: Number(requests[6]),
    timeout: Number(requests[7]),
    non2xx: Number(codes[2]) + Number(codes[3]) + Number(codes[4]),
  };
}

/** Per-request lines: start (µs since epoch) TAB status TAB duration (µs). */
function parseLog(text: string): number[] {
  const latencies: number[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split("\t");
    if (fields.length >= 3) latencies.push(Number(fields[2]));
  }
  return latencies;
}
