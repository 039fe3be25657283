/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went:
 * self time by owner (Node's HTTP/2, connect-node, protobuf-es, ioredis, our
 * src/ files, GC, idle, ...), the hottest functions, and the inclusive time
 * of a few functions of ours that bound the Verify path ("<name> <file>",
 * e.g. "verify src/app/verify.ts": the synchronous stretches of an async
 * function, between its awaits).
 */
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  /** Of the busy (non-idle) time. */
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  owners: Share[];
  functions: Share[];
  /** Inclusive time of the functions asked for, by name. */
  inclusive: Share[];
}

const ABORT_OWNER = "node:AbortSignal, DOMException, EventTarget";

/** Who owns a frame: a package, a file of ours, or a part of Node. */
export function ownerOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === "") {
    if (functionName === "(idle)") return "(idle)";
    if (functionName === "(garbage collector)") return "GC";
    if (functionName === "(program)") return "(program: native, not attributed)";
    return `native ${functionName}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg?.[1]) return pkg[1];
  const ours = /\/(src|gen|bench)\/(.+?)(\?.*)?$/.exec(url);
  if (ours?.[1] && ours[2]) return sourceName(`${ours[1]}/${ours[2]}`);
  // connect-es makes AbortControllers per call and aborts them when it ends:
  // each abort() builds a DOMException, stack trace included.
  if (/^node:internal\/(per_context\/domexception|abort_controller|event_target)/.test(url)) {
    return ABORT_OWNER;
  }
  if (url.startsWith("node:internal/http2")) return "node:http2";
  if (url.startsWith("node:internal/streams") || url.startsWith("node:stream")) return "node:streams";
  if (url.startsWith("node:internal/process/task_queues") || url.startsWith("node:internal/timers")) return "node:event loop (ticks, timers)";
  if (url.startsWith("node:internal/crypto")) return "node:crypto";
  if (url.startsWith("node:")) return "node:other";
  return url;
}

export function summarize(file: string, inclusiveOf: readonly string[] = [], top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalUs += us;
    const owner = ownerOf(frame);
    if (owner === "(idle)") {
      idleUs += us;
      continue;
    }
    owners.set(owner, (owners.get(owner) ?? 0) + us);
    const fn = `${frame.functionName || "(anonymous)"} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }

  // Inclusive time: a node's self time plus its subtree's, counted once per
  // name even when the function appears twice on one stack.
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const inclusive = new Map<string, number>(inclusiveOf.map((name) => [name, 0]));
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const frame = byId.get(at)?.callFrame;
      const name = frame ? `${frame.functionName} ${shortUrl(frame.url)}` : "";
      if (inclusive.has(name) && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
  }

  const busyUs = totalUs - idleUs;
  const shares = (map: Map<string, number>, limit: number): Share[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({ name, ms: round(us / 1000), percent: round((100 * us) / busyUs) }));
  return {
    totalMs: round(totalUs / 1000),
    busyMs: round(busyUs / 1000),
    owners: shares(owners, owners.size),
    functions: shares(functions, top),
    inclusive: shares(inclusive, inclusiveOf.length),
  };
}

function shortUrl(url: string): string {
  const cut = url.lastIndexOf("node_modules/");
  if (cut >= 0) return url.slice(cut + "node_modules/".length);
  const ours = /\/((?:src|gen|bench)\/.+)$/.exec(url);
  return ours?.[1] ? sourceName(ours[1]) : url;
}

/** Our file as its source is named: the bench runs the compiled `.js` (see compileServers). */
const sourceName = (path: string): string => path.replace(/\.js$/, ".ts");

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

export function formatSummary(summary: ProfileSummary): string {
  const lines = [`busy ${summary.busyMs} ms of ${summary.totalMs} ms sampled`, "", "self time, rolled up:"];
  for (const s of rollUp(summary)) lines.push(`  ${s.percent.toFixed(1).padStart(5)}%  ${s.name}`);
  lines.push("", "self time by owner:");
  for (const s of summary.owners.filter((o) => o.percent >= 0.2)) lines.push(`  ${s.percent.toFixed(1).padStart(5)}%  ${s.name}`);
  lines.push("", "hottest functions (self time):");
  for (const s of summary.functions) lines.push(`  ${s.percent.toFixed(1).padStart(5)}%  ${s.name}`);
  if (summary.inclusive.length > 0) {
    lines.push("", "inclusive time:");
    for (const s of summary.inclusive) lines.push(`  ${s.percent.toFixed(1).padStart(5)}%  ${s.name}`);
  }
  return lines.join("\n");
}

/** Self time rolled up: Node, GC, the RPC library, protobuf, our code, the rest. */
export function rollUp(summary: ProfileSummary): Share[] {
  const groups = new Map<string, number>();
  for (const owner of summary.owners) {
    const group = owner.name === ABORT_OWNER
      ? "Node.js AbortSignal + DOMException (connect-es: per-call AbortControllers, abort() at the end)"
      : owner.name.startsWith("node:")
      ? "Node.js (http2, streams, event loop, other)"
      : owner.name === "GC"
        ? "GC"
        : owner.name.startsWith("@connectrpc/")
          ? "connect-es (@connectrpc/connect, connect-node)"
          : owner.name === "@bufbuild/protobuf"
            ? "protobuf-es"
            : owner.name.startsWith("src/") || owner.name.startsWith("gen/") || owner.name.startsWith("bench/")
              ? "keyward (src/, gen/)"
              : owner.name === "ioredis" || owner.name === "redis-parser" || owner.name === "denque" || owner.name === "@ioredis/commands"
                ? "ioredis"
                : owner.name.startsWith("native ") || owner.name.startsWith("(program")
                  ? "native (V8 builtins, C++)"
                  : "other packages";
    groups.set(group, (groups.get(group) ?? 0) + owner.ms);
  }
  return [...groups]
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => ({ name, ms: round(ms), percent: round((100 * ms) / summary.busyMs) }));
}

// `npx tsx bench/cpu-profile.ts <file.cpuprofile> ["<function> <file>" ...]`
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "")) {
  const [file, ...names] = process.argv.slice(2);
  if (!file) {
    process.stderr.write(`usage: npx tsx bench/cpu-profile.ts <file.cpuprofile> ["<function> <file>" ...]\n`);
    process.exit(2);
  }
  process.stdout.write(`${formatSummary(summarize(file, names))}\n`);
}
