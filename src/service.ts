/**
 * Wires the service from its configuration: stores, limiter, use cases and
 * listeners. The one place that knows which adapter serves which port.
 */
import type { Logger } from "pino";
import { MemoryKeyStore } from "./adapters/memory/memory-key-store.js";
import { MemoryOrganizationStore } from "./adapters/memory/memory-organization-store.js";
import { MemoryRateLimiter } from "./adapters/memory/memory-rate-limiter.js";
import { JoseUserTokenVerifier } from "./adapters/jwt/jose-user-token-verifier.js";
import { connectMongo } from "./adapters/mongo/mongo-connection.js";
import { ApiKeys } from "./app/api-keys.js";
import { Organizations } from "./app/organizations.js";
import { UsageBatcher } from "./app/usage-batcher.js";
import { Verifier } from "./app/verify.js";
import type { Config } from "./config.js";
import { RoutePolicy } from "./domain/route-policy.js";
import type { KeyStore } from "./ports/key-store.js";
import type { OrganizationStore } from "./ports/organization-store.js";
import { NO_CHANGE_NOTIFIER } from "./ports/change-notifier.js";
import { startServer } from "./server.js";
import type { RunningServer } from "./server.js";

export interface Keyward {
  server: RunningServer;
  /** Graceful stop: drain calls, flush last_used_at, close connections. */
  stop(): Promise<void>;
}

interface Storage {
  keys: KeyStore;
  organizations: OrganizationStore;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

async function openStorage(config: Config, logger: Logger): Promise<Storage> {
  if (config.mongodbUri) {
    const mongo = await connectMongo(config.mongodbUri, config.mongodbDatabase);
    logger.info({ database: mongo.db.databaseName }, "storage: MongoDB");
    return mongo;
  }
  logger.warn(
    "storage: EMBEDDED IN-MEMORY STORE — NOT DURABLE: every key is lost when the process stops. Set MONGODB_URI for real use.",
  );
  return {
    keys: new MemoryKeyStore(),
    organizations: new MemoryOrganizationStore(),
    ping: async () => true,
    close: async () => {},
  };
}

export async function startKeyward(config: Config, logger: Logger): Promise<Keyward> {
  const storage = await openStorage(config, logger);
  const now = () => new Date();
  const usage = new UsageBatcher(storage.keys, {
    intervalMs: config.usageFlushMs,
    onError: (error) => logger.warn({ err: error }, "last_used_at batch not written; will retry"),
  });
  const verifier = new Verifier({
    keys: storage.keys,
    organizations: storage.organizations,
    limiter: new MemoryRateLimiter(),
    routes: new RoutePolicy(config.routeRules),
    usage,
    userTokens: config.jwt ? new JoseUserTokenVerifier(config.jwt) : null,
    defaultPlan: config.defaultRateLimit,
    now,
  });
  const server = await startServer(
    {
      verifier,
      apiKeys: new ApiKeys({ keys: storage.keys, changes: NO_CHANGE_NOTIFIER, now }),
      organizations: new Organizations({ organizations: storage.organizations, changes: NO_CHANGE_NOTIFIER }),
      logger,
      internalTokens: config.internalTokens,
      readiness: async () => ({ storage: await storage.ping() }),
    },
    { host: config.host, rpcPort: config.rpcPort, httpPort: config.httpPort },
  );
  logger.info({ rpc: server.rpcUrl, http: server.httpUrl, env: config.env }, "keyward listening");

  return {
    server,
    async stop() {
      await server.close(config.shutdownGraceMs);
      await usage.close();
      await storage.close();
    },
  };
}
