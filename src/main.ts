/** Entry point: configuration from the environment, then wiring. Nothing else. */
import cluster from "node:cluster";
import { ConfigError, loadConfig, StartupError } from "./config.js";
import { unknownVariableWarnings } from "./config-variables.js";
import type { Config } from "./config.js";
import { createLogger } from "./logger.js";
import { startKeyward } from "./service.js";
import { superviseWorkers } from "./workers.js";

let config: Config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`keyward: invalid configuration: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

const logger = createLogger(config.logLevel);
if (cluster.isPrimary) {
  for (const warning of unknownVariableWarnings(process.env)) logger.warn(warning);
}
if (config.workers > 1 && cluster.isPrimary) {
  superviseWorkers(config.workers, logger);
} else {
  await serve(config);
}

async function serve(config: Config): Promise<void> {
  let keyward;
  try {
    keyward = await startKeyward(config, logger);
  } catch (error) {
    const reason = startupFailure(error, config);
    if (reason) {
      process.stderr.write(`keyward: cannot start: ${reason}\n`);
      process.exit(2);
    }
    logger.fatal({ err: error }, "keyward could not start");
    process.exit(1);
  }
  const running = keyward;

  // One banner, not one per worker.
  if (config.env === "development" && (cluster.isPrimary || cluster.worker?.id === 1)) {
    process.stdout.write(
      [
        "",
        `keyward is running: RPC ${running.server.rpcUrl}  HTTP ${running.server.httpUrl}`,
        "Create a first key (in another terminal):",
        `  npm run cli -- create-key --organization 7c9e6679-7425-40de-944b-e07fc1f90ae7 --name "First key" --url ${running.server.rpcUrl}`,
        "",
      ].join("\n"),
    );
  }

  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "stopping: draining calls, flushing last_used_at");
      running.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, "unclean stop");
          process.exit(1);
        },
      );
    });
  }
}

/** One line for the start-up failures an operator can fix; null for a bug. */
function startupFailure(error: unknown, config: Config): string | null {
  if (error instanceof StartupError) return error.message;
  const failure = error as NodeJS.ErrnoException & { port?: number };
  if (failure.code === "EADDRINUSE" || failure.code === "EACCES" || failure.code === "EADDRNOTAVAIL") {
    const variable = failure.port === config.httpPort ? "KEYWARD_HTTP_PORT" : "KEYWARD_RPC_PORT";
    const problem =
      failure.code === "EADDRINUSE" ? "is in use"
      : failure.code === "EACCES" ? "needs privileges this process lacks"
      : "is not an address of this machine (KEYWARD_HOST)";
    return `${variable}: ${config.host}:${failure.port ?? "?"} ${problem}`;
  }
  return null;
}
