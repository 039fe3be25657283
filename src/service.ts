/**
 * Wires the service from its configuration: stores, limiter, use cases and
 * listeners. The one place that knows which adapter serves which port.
 */
import type { Logger } from "pino";
import { MemoryAuditLog } from "./adapters/memory/memory-audit-log.js";
import { MemoryKeyStore } from "./adapters/memory/memory-key-store.js";
import { MemoryOrganizationStore } from "./adapters/memory/memory-organization-store.js";
import { MemoryCacheBus } from "./adapters/memory/memory-cache-bus.js";
import { MemoryRateLimiter } from "./adapters/memory/memory-rate-limiter.js";
import { MemoryUsageCounter } from "./adapters/memory/memory-usage-counter.js";
import { JoseUserTokenVerifier } from "./adapters/jwt/jose-user-token-verifier.js";
import { MongoAuditLog } from "./adapters/mongo/mongo-audit-log.js";
import { connectMongo } from "./adapters/mongo/mongo-connection.js";
import { closeRedis, openRedis } from "./adapters/redis/redis-connection.js";
import { openRedisCluster } from "./adapters/redis/redis-cluster-connection.js";
import { RedisCacheBus } from "./adapters/redis/redis-cache-bus.js";
import { RedisRateLimiter } from "./adapters/redis/redis-rate-limiter.js";
import { FailoverRateLimiter } from "./app/failover-rate-limiter.js";
import { ApiKeys } from "./app/api-keys.js";
import { AuditTrail } from "./app/audit-trail.js";
import { CacheChangeNotifier } from "./app/cache-change-notifier.js";
import { CreditCharger } from "./app/credits.js";
import { Organizations } from "./app/organizations.js";
import { UsageBatcher } from "./app/usage-batcher.js";
import { VerificationCache } from "./app/verification-cache.js";
import { Verifier } from "./app/verify.js";
import type { Config } from "./config.js";
import { createMetrics } from "./metrics.js";
import type { Metrics } from "./metrics.js";
import { RoutePolicy } from "./domain/route-policy.js";
import type { AuditLog } from "./ports/audit-log.js";
import type { CreditStore } from "./ports/credit-store.js";
import type { KeyStore } from "./ports/key-store.js";
import type { OrganizationStore } from "./ports/organization-store.js";
import type { RateLimiter } from "./ports/rate-limiter.js";
import type { CacheBus } from "./ports/cache-bus.js";
import type { UsageCounter } from "./ports/usage-counter.js";
import { startServer } from "./server.js";
import type { RunningServer } from "./server.js";

export interface Keyward {
  server: RunningServer;
  /** Graceful stop: drain calls, flush last_used_at and usage counts, close connections. */
  stop(): Promise<void>;
}

/** How the service is wired beyond its configuration. */
export interface KeywardOptions {
  /** Wraps the audit log the use cases write to (another sink beside it, or faults in tests). */
  auditLog?: (log: AuditLog) => AuditLog;
  /** false: the hot methods through connect-node too (see ListenOptions.directLane). */
  directLane?: boolean;
}

interface Storage {
  keys: KeyStore;
  credits: CreditStore;
  organizations: OrganizationStore;
  audit: AuditLog;
  usage: UsageCounter;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

async function openStorage(config: Config, logger: Logger, metrics: Metrics): Promise<Storage> {
  if (config.mongodbUri) {
    const mongo = await connectMongo(config.mongodbUri, {
      defaultDatabase: config.mongodbDatabase,
      timeoutMs: config.mongodbTimeoutMs,
      observe: (operation, outcome, seconds) => metrics.storageDuration.observe({ operation, outcome }, seconds),
      writeConcern: config.mongodbWriteConcern,
      readPreference: config.mongodbReadPreference,
    });
    const audit = new MongoAuditLog(mongo.db, mongo.deadline);
    await audit.ensureIndexes();
    logger.info({ database: mongo.db.databaseName }, "storage: MongoDB");
    return { ...mongo, audit };
  }
  logger.warn(
    "storage: EMBEDDED IN-MEMORY STORE — NOT DURABLE: every key is lost when the process stops. Set MONGODB_URI for real use.",
  );
  const keys = new MemoryKeyStore();
  return {
    keys,
    credits: keys,
    organizations: new MemoryOrganizationStore(),
    audit: new MemoryAuditLog(),
    usage: new MemoryUsageCounter(),
    ping: async () => true,
    close: async () => {},
  };
}

interface Shared {
  limiter: RateLimiter;
  /** Carries cache invalidations to every replica. */
  bus: CacheBus;
  /** `{redis: reachable}` when Redis is configured, else nothing. */
  dependencies(): Promise<Record<string, boolean>>;
  close(): Promise<void>;
}

/**
 * With Redis (one node or a cluster): a limiter exact across replicas
 * (in-process fallback) and pub/sub invalidation. Without: both in-process,
 * for a single replica.
 */
async function openShared(config: Config, logger: Logger, metrics: Metrics): Promise<Shared> {
  const connection = { commandTimeoutMs: config.redisCommandTimeoutMs, logger };
  if (!config.redisUrl && !config.redisClusterNodes) {
    logger.info("rate limiter and cache invalidation: in-process (one replica only; set REDIS_URL to share them)");
    return {
      limiter: new MemoryRateLimiter(),
      bus: new MemoryCacheBus(),
      dependencies: async () => ({}),
      close: async () => {},
    };
  }
  const redis = config.redisClusterNodes
    ? await openRedisCluster(config.redisClusterNodes, connection)
    : await openRedis(config.redisUrl ?? "", connection);
  logger.info(
    { failClosed: config.rateLimitFailClosed, cluster: config.redisClusterNodes !== null },
    "rate limiter and cache invalidation: Redis",
  );
  const limiter = new FailoverRateLimiter({
    primary: new RedisRateLimiter(redis),
    fallback: new MemoryRateLimiter(),
    failClosed: config.rateLimitFailClosed,
    logger,
    metrics,
  });
  const bus = new RedisCacheBus(redis, logger);
  return {
    limiter,
    bus,
    dependencies: async () => ({ redis: redis.status === "ready" && (await redis.ping().then(() => true, () => false)) }),
    close: async () => {
      await bus.close();
      await closeRedis(redis);
    },
  };
}

export async function startKeyward(config: Config, logger: Logger, options: KeywardOptions = {}): Promise<Keyward> {
  const metrics = createMetrics();
  const storage = await openStorage(config, logger, metrics);
  const shared = await openShared(config, logger, metrics);
  const dependencies = async () => ({
    ...(config.mongodbUri ? { mongodb: await storage.ping() } : {}),
    ...(await shared.dependencies()),
  });
  metrics.probeDependencies(dependencies);
  // Ready while storage answers; Redis is required only when fail-closed
  // (otherwise the in-process limiter keeps Verify answering: degraded, not down).
  const usesRedis = config.redisUrl !== null || config.redisClusterNodes !== null;
  const required = ["storage", ...(usesRedis && config.rateLimitFailClosed ? ["redis"] : [])];
  const readiness = async () => ({ checks: { storage: await storage.ping(), ...(await shared.dependencies()) }, required });
  const cache = new VerificationCache(storage, {
    ...config.cache,
    onStaleServed: () => metrics.cacheStaleServed.inc(),
    onLookup: (name, result) => metrics.cacheLookups.inc({ cache: name, result }),
  });
  await shared.bus.subscribe(
    (invalidation) => cache.invalidate(invalidation),
    () => cache.clear(),
  );
  const changes = new CacheChangeNotifier(cache, shared.bus);
  const now = () => new Date();
  const usage = new UsageBatcher({ keys: storage.keys, counter: storage.usage }, {
    intervalMs: config.usageFlushMs,
    onError: (error) => logger.warn({ err: error }, "usage batch (last_used_at, verdict counts) not written; will retry"),
  });
  const audit = new AuditTrail({ log: options.auditLog?.(storage.audit) ?? storage.audit, now });
  const verifier = new Verifier({
    keys: cache.keyStore,
    organizations: cache.organizationStore,
    limiter: shared.limiter,
    credits: new CreditCharger(storage.credits),
    routes: new RoutePolicy(config.routeRules),
    usage,
    userTokens: config.jwt ? new JoseUserTokenVerifier(config.jwt) : null,
    defaultPlan: config.defaultRateLimit,
    now,
    observe: (transport, outcome, seconds) => {
      if (outcome !== "INVALID_ARGUMENT" && outcome !== "UNAVAILABLE") metrics.verdicts.inc({ code: outcome, transport });
      metrics.verifyDuration.observe({ transport, code: outcome }, seconds);
    },
  });
  const server = await startServer(
    {
      verifier,
      apiKeys: new ApiKeys({ keys: storage.keys, credits: storage.credits, changes, audit, usage: storage.usage, now }),
      organizations: new Organizations({ organizations: storage.organizations, changes, audit }),
      audit,
      logger,
      internalTokens: config.internalTokens,
      trustedProxies: config.trustedProxies,
      forwardMetadata: config.forwardMetadata,
      readiness,
      metrics,
      corsOrigins: config.corsOrigins,
    },
    {
      host: config.host,
      rpcPort: config.rpcPort,
      httpPort: config.httpPort,
      limits: config.limits,
      ...(options.directLane === undefined ? {} : { directLane: options.directLane }),
    },
  );
  logger.info({ rpc: server.rpcUrl, http: server.httpUrl, env: config.env }, "keyward listening");

  return {
    server,
    async stop() {
      await server.close(config.shutdownGraceMs, config.shutdownDrainMs);
      await usage.close();
      await shared.close();
      await storage.close();
    },
  };
}
