/**
 * The bench's child processes: Node servers that report "ready" over IPC, and
 * plain commands (h2load). Every one is tracked, so the bench stops them all —
 * on success, on failure, on Ctrl-C — and a server whose parent dies exits by
 * itself (see exitWithParent).
 */
import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { GcStats } from "./resources.js";

export const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

/** What a bench server sends its parent once it listens. */
export interface ReadyMessage {
  type: "ready";
  /** The RPC port (h2c). */
  port: number;
}

export interface NodeServer {
  name: string;
  port: number;
  url: string;
  pid: number;
  /** GC pauses since the last call (servers that run monitorGc; else null). */
  gcStats(): Promise<GcStats | null>;
  /** SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Last resort on exit: whatever is still running gets SIGKILL. */
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export interface StartNodeOptions {
  /** The node binary; default: the one running the bench (Node 24). */
  node?: string;
  /** Environment on top of the bench's own. */
  env?: Record<string, string>;
  /** Node flags before the file (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Told every chunk the server writes to stdout or stderr. */
  onOutput?: (text: string) => void;
}

/** Where compileServers() puts the bench servers and the service, as JavaScript. */
const BUILD_DIR = ".cache/bench-build";

/**
 * Compiles the service and the bench servers with tsc, as `npm run build`
 * compiles what production runs: servers then run as plain JavaScript, not
 * through tsx (whose transform wraps every function it creates).
 */
export function compileServers(): void {
  execFileSync(join(REPO_ROOT, "node_modules/.bin/tsc"), ["-p", "tsconfig.bench.json"], { cwd: REPO_ROOT, stdio: "inherit" });
}

/** Runs the compiled `<file>` (see compileServers) with node and waits for its ReadyMessage. */
export async function startNodeServer(
  name: string,
  file: string,
  options: StartNodeOptions = {},
): Promise<NodeServer> {
  const compiled = join(BUILD_DIR, file.replace(/\.ts$/, ".js"));
  const child = spawn(options.node ?? process.execPath, [...(options.nodeArgs ?? []), compiled], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  live.add(child);
  let tail = "";
  const keep = (chunk: Buffer): void => {
    const text = chunk.toString("utf8");
    tail = (tail + text).slice(-4000);
    options.onOutput?.(text);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve(signal ? `killed by ${signal}` : `exited with code ${String(code)}`);
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready within ${READY_TIMEOUT_MS} ms\n${tail}`)), READY_TIMEOUT_MS);
    child.on("message", (message: ReadyMessage) => {
      if (message.type !== "ready") return;
      clearTimeout(timer);
      resolve(message.port);
    });
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`${name} ${how} during startup\n${tail}`));
    });
  }).catch(async (error: unknown) => {
    child.kill("SIGKILL");
    await exited;
    throw error;
  });

  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    gcStats: () =>
      new Promise<GcStats | null>((resolve) => {
        const timer = setTimeout(() => done(null), 2000);
        const onMessage = (message: { type?: string; stats?: GcStats }): void => {
          if (message.type === "gc-stats") done(message.stats ?? null);
        };
        const done = (stats: GcStats | null): void => {
          clearTimeout(timer);
          child.off("message", onMessage);
          resolve(stats);
        };
        child.on("message", onMessage);
        if (!child.connected || !child.send({ type: "gc-stats" })) done(null);
      }),
    async stop(graceMs = STOP_GRACE_MS) {
      if (!live.has(child)) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const how = await exited;
      clearTimeout(timer);
      if (how !== "exited with code 0") {
        process.stderr.write(`bench: ${name} ${how} (SIGTERM, then SIGKILL after ${graceMs} ms)\n${tail.slice(-1000)}\n`);
      }
    },
  };
}

/** Runs a command to completion; rejects on a non-zero exit, with its stderr. */
export async function runCommand(file: string, args: string[]): Promise<string> {
  const child = spawn(file, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-4000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (exitCode) => resolve(exitCode));
  }).finally(() => live.delete(child));
  if (code !== 0) throw new Error(`${file} ${args.join(" ")} exited with ${String(code)}\n${stderr}${stdout.slice(-2000)}`);
  return stdout;
}

/**
 * For a bench server: report readiness to the parent, and exit when the
 * parent goes away (the IPC channel closes), however it died.
 */
export function exitWithParent(onStop: () => Promise<void>): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    onStop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("disconnect", stop);
}

export function reportReady(port: number): void {
  const message: ReadyMessage = { type: "ready", port };
  process.send?.(message);
}
