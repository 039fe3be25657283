/**
 * Real service processes (`node --import tsx src/main.ts`) for tests of what
 * crosses replicas: shared Redis pools, pub/sub invalidation.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "../setup/servers.js";
import { clientsFor } from "./keyward.js";
import type { Clients } from "./keyward.js";

export interface Replica {
  child: ChildProcess;
  /** Every JSON log line the process printed so far. */
  logs: Array<Record<string, unknown>>;
  /** The pid of each process that logged "keyward listening" (workers, or the one process). */
  servingPids: number[];
  rpcUrl: string;
  httpUrl: string;
  clients: Clients;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
// Last resort should the worker end without afterAll.
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

export interface ReplicaOptions {
  /** The command line after `node`; default: the TypeScript sources through tsx. */
  args?: readonly string[];
}

/**
 * Starts one service process on free ports; resolves once it (or each of its
 * `KEYWARD_WORKERS` workers) logs where it listens.
 */
export function startReplica(env: Record<string, string>, options: ReplicaOptions = {}): Promise<Replica> {
  const expected = Number(env.KEYWARD_WORKERS ?? "1");
  const child = spawn(process.execPath, options.args ?? ["--import", "tsx", "src/main.ts"], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      KEYWARD_HOST: "127.0.0.1",
      KEYWARD_RPC_PORT: "0",
      KEYWARD_HTTP_PORT: "0",
      KEYWARD_LOG_LEVEL: "info",
      // A generous storage deadline under the test load (see startTestKeyward).
      KEYWARD_MONGODB_TIMEOUT_MS: "10000",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`replica exited with ${String(code)} before listening:\n${stderr}`)));
    const servingPids: number[] = [];
    const logs: Array<Record<string, unknown>> = [];
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      const entry = JSON.parse(line) as { msg?: string; rpc?: string; http?: string; pid?: number };
      logs.push(entry);
      if (entry.msg === "keyward listening" && entry.rpc && entry.http) {
        servingPids.push(entry.pid ?? 0);
        if (servingPids.length < expected) return;
        resolve({ child, logs, servingPids, rpcUrl: entry.rpc, httpUrl: entry.http, clients: clientsFor(entry.rpc, "grpc"), stop });
      }
    });
  });
}

/** Starts `count` replicas with one environment; stops those that did start if one fails. */
export async function startReplicas(count: number, env: Record<string, string>): Promise<Replica[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => startReplica(env)));
  const replicas = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    await Promise.all(replicas.map((r) => r.stop()));
    throw failed.reason;
  }
  return replicas;
}

/**
 * Runs the service process, expecting it to stop by itself (a refused
 * configuration, a failed start); answers its exit code and stderr.
 */
export async function runUntilExit(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    await promisify(execFile)(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "", KEYWARD_LOG_LEVEL: "warn", ...env },
      timeout: 15_000,
    });
    return { code: 0, stderr: "" };
  } catch (error) {
    const failure = error as { code: number; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
}
