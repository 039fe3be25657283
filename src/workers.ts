/**
 * Several worker processes on the same ports (node:cluster): connect-node
 * spends most of a call on one core's event loop, so workers are how a
 * machine's other cores serve Verify. The primary only supervises: it starts
 * the workers, replaces one that dies after it was serving, gives up when
 * one cannot start at all, and on SIGTERM/SIGINT passes the signal on and
 * exits once every worker has drained and stopped.
 */
import cluster from "node:cluster";
import type { Logger } from "pino";

export function superviseWorkers(count: number, logger: Logger): void {
  let stopping = false;
  const serving = new WeakSet<object>();
  cluster.on("listening", (worker) => serving.add(worker));
  for (let i = 0; i < count; i++) cluster.fork();

  const live = () => Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
  const stopAll = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const worker of live()) worker.process.kill(signal);
  };

  cluster.on("exit", (worker, code, signal) => {
    if (stopping) {
      if (live().length === 0) process.exit(process.exitCode ?? 0);
      return;
    }
    if (!serving.has(worker)) {
      // It never listened: another would fail the same way.
      logger.fatal({ worker: worker.process.pid, code }, "a worker could not start; stopping");
      process.exitCode = 1;
      stopAll("SIGTERM");
      if (live().length === 0) process.exit(1);
      return;
    }
    logger.error({ worker: worker.process.pid, code, signal }, "worker died; starting another");
    cluster.fork();
  });

  for (const name of ["SIGTERM", "SIGINT"] as const) {
    process.on(name, () => {
      if (stopping) return;
      logger.info({ signal: name, workers: count }, "stopping workers");
      stopAll(name);
    });
  }
}
