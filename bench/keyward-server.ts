/**
 * The real service for the bench, configured from the environment exactly as
 * src/main.ts does (KEYWARD_*, MONGODB_URI, REDIS_URL), started with
 * startKeyward, reporting its RPC port over IPC. BENCH_WORKERS=N (N > 1) runs N
 * node:cluster workers sharing the port, to measure a multi-core deployment.
 */
import cluster from "node:cluster";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { startKeyward } from "../src/service.js";
import { exitWithParent, reportReady } from "./processes.js";
import { monitorGc } from "./resources.js";

const workers = Number(process.env.BENCH_WORKERS ?? "1");

if (workers > 1 && cluster.isPrimary) {
  await runPrimary(workers);
} else {
  await runService();
}

async function runService(): Promise<void> {
  const config = loadConfig(process.env);
  const keyward = await startKeyward(config, createLogger(config.logLevel), { directLane: process.env.BENCH_DIRECT_LANE !== "off" });
  if (cluster.isWorker) {
    process.send?.({ type: "worker-ready", port: keyward.server.rpcPort });
    // The primary stops workers with SIGTERM; a dead primary ends them too.
    process.once("SIGTERM", () => void keyward.stop().then(() => process.exit(0)));
    return;
  }
  monitorGc();
  exitWithParent(() => keyward.stop());
  reportReady(keyward.server.rpcPort);
}

async function runPrimary(count: number): Promise<void> {
  const forked = Array.from({ length: count }, () => cluster.fork());
  const ports = await Promise.all(
    forked.map(
      (worker) =>
        new Promise<number>((resolve, reject) => {
          worker.on("message", (message: { type?: string; port?: number }) => {
            if (message.type === "worker-ready" && message.port) resolve(message.port);
          });
          worker.once("exit", (code) => reject(new Error(`worker exited with ${String(code)} during startup`)));
        }),
    ),
  );
  exitWithParent(async () => {
    await Promise.all(
      forked.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once("exit", () => resolve());
            worker.kill("SIGTERM");
          }),
      ),
    );
  });
  // GC pauses are the workers' own: not counted here.
  process.on("message", (message: { type?: string }) => {
    if (message.type === "gc-stats") process.send?.({ type: "gc-stats", stats: null });
  });
  reportReady(ports[0] ?? 0);
}
