/**
 * Configuration: one environment variable per key, validated at start. A bad
 * value stops the service with one line naming the variable (never its value
 * when the variable holds a secret).
 */
import { readFileSync } from "node:fs";
import type { RateLimitPlan } from "./domain/api-key.js";
import { parseForwardedMetadataKeys } from "./domain/metadata-headers.js";
import { DEFAULT_ROUTE_RULES, parseRouteRules } from "./domain/route-policy.js";
import type { RouteRule } from "./domain/route-policy.js";
import type { UserTokenKeys } from "./adapters/jwt/jose-user-token-verifier.js";
import { parseCorsOrigins } from "./rest/cors.js";
import { TrustedProxies } from "./edge/client-ip.js";

export type Environment = "development" | "production";

/** What one client may hold on the ports; past it, connections and streams are refused or closed. */
export interface ConnectionLimits {
  /** Open connections per listener (per process). */
  maxConnections: number;
  /** Streams (calls) in flight on one HTTP/2 connection. */
  maxConcurrentStreams: number;
  /** A connection with no request in flight this long is closed (GOAWAY on HTTP/2). */
  idleTimeoutMs: number;
  /** A request (headers and body) or an RPC stream taking longer is ended. */
  requestTimeoutMs: number;
}

export interface Config {
  env: Environment;
  /** Address both listeners bind to. */
  host: string;
  rpcPort: number;
  httpPort: number;
  /** Service tokens for the internal RPC port; empty: open (loopback development only). */
  internalTokens: string[];
  /** Proxies whose X-Forwarded-For forward-auth believes; none by default (the socket peer is the client). */
  trustedProxies: TrustedProxies;
  /** Metadata keys the gateway doors pass upstream as `X-Keyward-Meta-<key>` headers; none by default. */
  forwardMetadata: string[];
  /** Unset: the embedded, non-durable store. */
  mongodbUri: string | null;
  mongodbDatabase: string;
  /** What a write waits for: `"majority"` of the replica set (default), or a number of members. */
  mongodbWriteConcern: "majority" | number;
  /** Reads from the primary only (default), or from a secondary while there is no primary. */
  mongodbReadPreference: "primary" | "primaryPreferred";
  /** Unset (and no cluster): in-process limiter and cache. */
  redisUrl: string | null;
  /** Seeds of a Redis Cluster, instead of `redisUrl`; null: not a cluster. */
  redisClusterNodes: Array<{ host: string; port: number }> | null;
  /** A Redis command unanswered after this long fails (and the limiter falls back). */
  redisCommandTimeoutMs: number;
  /** True: while Redis is down, Verify answers UNAVAILABLE instead of limiting in-process. */
  rateLimitFailClosed: boolean;
  logLevel: string;
  /** The plan of organizations without one. */
  defaultRateLimit: RateLimitPlan;
  routeRules: readonly RouteRule[];
  /** Null: user access tokens are not accepted. */
  jwt: { keys: UserTokenKeys; organizationClaim: string; issuer?: string; audience?: string } | null;
  /** How often last_used_at is written. */
  usageFlushMs: number;
  /** The verification cache (SPEC §6). */
  cache: {
    maxEntries: number;
    ttlMs: number;
    negativeTtlMs: number;
    maxStaleMs: number;
  };
  /** How long a MongoDB operation may wait for a reachable server. */
  mongodbTimeoutMs: number;
  /** Processes serving the ports (node:cluster); more than 1 needs MongoDB and Redis. */
  workers: number;
  /** How long SIGTERM waits for in-flight calls. */
  shutdownGraceMs: number;
  /** SIGTERM: how long the replica keeps serving while /readyz says 503, before it closes connections. */
  shutdownDrainMs: number;
  /** Bounds on what one client may hold on the ports (src/server.ts). */
  limits: ConnectionLimits;
  /** Browser origins allowed on the REST API (/v1/): `["*"]` for any. */
  corsOrigins: string[];
}

export class ConfigError extends Error {
  override readonly name: string = "ConfigError";
  constructor(
    readonly variable: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`${variable}: ${problem}`, options);
  }
}

/**
 * The service could not start for a reason outside its configuration's
 * syntax (a port in use, a database that does not answer); names the
 * variable to look at.
 */
export class StartupError extends ConfigError {
  override readonly name = "StartupError";
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

type Env = Readonly<Record<string, string | undefined>>;

function text(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = text(env, name);
  if (raw === null) return fallback;
  if (!allowed.includes(raw as T)) {
    throw new ConfigError(name, `must be one of ${allowed.join(", ")}, got "${raw}"`);
  }
  return raw as T;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name);
  if (raw === null) return fallback;
  if (raw !== "true" && raw !== "false") throw new ConfigError(name, `must be true or false, got "${raw}"`);
  return raw === "true";
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `<n>(ms|s|m|h)`, e.g. `500ms`, `30s`, `1h`: milliseconds, or null. */
export function parseDuration(raw: string): number | null {
  const match = /^(\d+)(ms|s|m|h)$/.exec(raw.trim());
  if (!match) return null;
  return Number(match[1]) * (UNITS[match[2] ?? "s"] ?? 1000);
}

/** `<limit>/<duration>`, e.g. `100/1s`, `6000/1m`. */
export function parsePlan(raw: string): RateLimitPlan | null {
  const match = /^(\d+)\s*\/\s*(\S+)$/.exec(raw.trim());
  const windowMs = match ? parseDuration(match[2] ?? "") : null;
  if (!match || windowMs === null) return null;
  const limit = Number(match[1]);
  if (limit < 1 || limit > 1_000_000_000 || windowMs < 1000 || windowMs > 86_400_000) return null;
  return { limit, windowMs };
}

function url(env: Env, name: string, protocols: readonly string[]): string | null {
  const raw = text(env, name);
  if (raw === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, "is not a valid URL");
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must be a ${protocols.join(" or ")} URL`);
  }
  return raw;
}

function jwtConfig(env: Env): Config["jwt"] {
  const secret = text(env, "KEYWARD_JWT_SECRET");
  const jwksFile = text(env, "KEYWARD_JWT_JWKS_FILE");
  const jwksUrl = url(env, "KEYWARD_JWT_JWKS_URL", ["https:", "http:"]);
  const given = [secret, jwksFile, jwksUrl].filter((v) => v !== null).length;
  if (given === 0) return null;
  if (given > 1) {
    throw new ConfigError("KEYWARD_JWT_SECRET", "set only one of KEYWARD_JWT_SECRET, KEYWARD_JWT_JWKS_FILE, KEYWARD_JWT_JWKS_URL");
  }
  let keys: UserTokenKeys;
  if (secret !== null) {
    if (Buffer.byteLength(secret) < 32) throw new ConfigError("KEYWARD_JWT_SECRET", "must be at least 32 bytes");
    keys = { type: "secret", secret };
  } else if (jwksFile !== null) {
    let jwks: unknown;
    try {
      jwks = JSON.parse(readFileSync(jwksFile, "utf8"));
    } catch (error) {
      throw new ConfigError("KEYWARD_JWT_JWKS_FILE", `cannot read a JSON file: ${(error as Error).message}`);
    }
    if (typeof jwks !== "object" || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
      throw new ConfigError("KEYWARD_JWT_JWKS_FILE", 'must hold a JWKS: {"keys": [...]}');
    }
    keys = { type: "jwks", jwks: jwks as { keys: object[] } };
  } else {
    keys = { type: "jwks_url", url: jwksUrl ?? "" };
  }
  const issuer = text(env, "KEYWARD_JWT_ISSUER");
  const audience = text(env, "KEYWARD_JWT_AUDIENCE");
  return {
    keys,
    organizationClaim: text(env, "KEYWARD_JWT_ORG_CLAIM") ?? "org_id",
    ...(issuer ? { issuer } : {}),
    ...(audience ? { audience } : {}),
  };
}

function corsOrigins(env: Env): string[] {
  try {
    return parseCorsOrigins(text(env, "KEYWARD_CORS_ORIGINS") ?? "*");
  } catch (error) {
    throw new ConfigError("KEYWARD_CORS_ORIGINS", (error as Error).message);
  }
}

function trustedProxies(env: Env): TrustedProxies {
  try {
    return TrustedProxies.parse(text(env, "KEYWARD_TRUSTED_PROXIES") ?? "");
  } catch (error) {
    throw new ConfigError("KEYWARD_TRUSTED_PROXIES", `${(error as Error).message}; give comma-separated addresses or CIDRs`);
  }
}

function forwardMetadata(env: Env): string[] {
  try {
    return parseForwardedMetadataKeys(text(env, "KEYWARD_FORWARD_METADATA") ?? "");
  } catch (error) {
    throw new ConfigError("KEYWARD_FORWARD_METADATA", `${(error as Error).message}; give comma-separated metadata keys`);
  }
}

function routeRules(env: Env): readonly RouteRule[] {
  const file = text(env, "KEYWARD_ROUTE_POLICY_FILE");
  if (file === null) return DEFAULT_ROUTE_RULES;
  try {
    return parseRouteRules(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError("KEYWARD_ROUTE_POLICY_FILE", (error as Error).message);
  }
}

/** Shortest service token accepted in development, and in production. */
export const MIN_TOKEN_LENGTH = { development: 16, production: 32 } as const;

/**
 * Tokens that stand in examples and compose files: production refuses them,
 * whatever their length, since anyone who read the example knows them.
 */
const PLACEHOLDER_TOKEN = /change-?me|placeholder|example|replace-?with|your-?token/i;

function checkTokens(tokens: readonly string[], mode: Environment): void {
  const min = MIN_TOKEN_LENGTH[mode];
  if (tokens.some((t) => t.length < min)) {
    throw new ConfigError("KEYWARD_INTERNAL_TOKENS", `each token must be at least ${min} characters in ${mode}`);
  }
  if (mode === "production" && tokens.length === 0) {
    throw new ConfigError("KEYWARD_INTERNAL_TOKENS", "required in production (comma-separated service tokens)");
  }
  if (mode === "production" && tokens.some((t) => PLACEHOLDER_TOKEN.test(t))) {
    throw new ConfigError(
      "KEYWARD_INTERNAL_TOKENS",
      "holds a placeholder token from an example; generate one, e.g. openssl rand -base64 48",
    );
  }
}

function writeConcern(env: Env): Config["mongodbWriteConcern"] {
  const name = "KEYWARD_MONGODB_WRITE_CONCERN";
  const raw = text(env, name) ?? "majority";
  if (raw === "majority") return raw;
  // 0 (unacknowledged) would hide every failed write from the caller.
  if (!/^\d{1,2}$/.test(raw) || Number(raw) < 1) {
    throw new ConfigError(name, `must be majority or a number of members from 1 to 99, got "${raw}"`);
  }
  return Number(raw);
}

/** `host:port,host:port,...`: any nodes of the cluster (ioredis finds the rest). */
function clusterNodes(env: Env): Config["redisClusterNodes"] {
  const name = "KEYWARD_REDIS_CLUSTER_NODES";
  const raw = text(env, name);
  if (raw === null) return null;
  if (text(env, "REDIS_URL") !== null) {
    throw new ConfigError(name, "set either REDIS_URL (one Redis) or KEYWARD_REDIS_CLUSTER_NODES (Redis Cluster), not both");
  }
  return raw.split(",").map((seed) => {
    const match = /^\[?([^\s[\]]+?)\]?:(\d{1,5})$/.exec(seed.trim());
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) {
      throw new ConfigError(name, `must be comma-separated host:port seeds, got "${seed.trim()}"`);
    }
    return { host: match[1] ?? "", port };
  });
}

/**
 * Workers share nothing in memory, so more than one needs the shared stores:
 * MongoDB for keys, Redis for exact pools and cache invalidation.
 */
function workers(env: Env): number {
  const count = integer(env, "KEYWARD_WORKERS", 1, 1, 64);
  const redis = text(env, "REDIS_URL") ?? text(env, "KEYWARD_REDIS_CLUSTER_NODES");
  if (count > 1 && (text(env, "MONGODB_URI") === null || redis === null)) {
    throw new ConfigError(
      "KEYWARD_WORKERS",
      "more than 1 worker needs MONGODB_URI and REDIS_URL or KEYWARD_REDIS_CLUSTER_NODES (workers share no memory)",
    );
  }
  return count;
}

export function loadConfig(env: Env): Config {
  const mode = oneOf(env, "KEYWARD_ENV", ["development", "production"] as const, "development");
  const host = text(env, "KEYWARD_HOST") ?? "127.0.0.1";
  const tokens = (text(env, "KEYWARD_INTERNAL_TOKENS") ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  checkTokens(tokens, mode);
  if (mode === "production" && text(env, "MONGODB_URI") === null) {
    throw new ConfigError("MONGODB_URI", "required in production: the embedded store keeps keys in memory only (development)");
  }
  if (tokens.length === 0 && !LOOPBACK.test(host)) {
    throw new ConfigError("KEYWARD_INTERNAL_TOKENS", `required when listening on ${host} (not loopback)`);
  }
  const rateLimitRaw = text(env, "KEYWARD_RATE_LIMIT_DEFAULT");
  const defaultRateLimit = rateLimitRaw === null ? { limit: 100, windowMs: 1000 } : parsePlan(rateLimitRaw);
  if (!defaultRateLimit) {
    throw new ConfigError("KEYWARD_RATE_LIMIT_DEFAULT", `must be <limit>/<duration> like 100/1s or 6000/1m, got "${rateLimitRaw}"`);
  }
  const rpcPort = integer(env, "KEYWARD_RPC_PORT", 50051, 0, 65535);
  const httpPort = integer(env, "KEYWARD_HTTP_PORT", 8080, 0, 65535);
  if (rpcPort !== 0 && rpcPort === httpPort) {
    throw new ConfigError("KEYWARD_HTTP_PORT", `must differ from KEYWARD_RPC_PORT (both ${rpcPort})`);
  }
  return {
    env: mode,
    host,
    rpcPort,
    httpPort,
    internalTokens: tokens,
    trustedProxies: trustedProxies(env),
    forwardMetadata: forwardMetadata(env),
    mongodbUri: url(env, "MONGODB_URI", ["mongodb:", "mongodb+srv:"]),
    mongodbDatabase: text(env, "KEYWARD_MONGODB_DATABASE") ?? "keyward",
    mongodbWriteConcern: writeConcern(env),
    mongodbReadPreference: oneOf(env, "KEYWARD_MONGODB_READ_PREFERENCE", ["primary", "primaryPreferred"] as const, "primary"),
    redisUrl: url(env, "REDIS_URL", ["redis:", "rediss:"]),
    redisClusterNodes: clusterNodes(env),
    redisCommandTimeoutMs: integer(env, "KEYWARD_REDIS_COMMAND_TIMEOUT_MS", 500, 10, 60_000),
    rateLimitFailClosed: boolean(env, "KEYWARD_RATE_LIMIT_FAIL_CLOSED", false),
    logLevel: oneOf(env, "KEYWARD_LOG_LEVEL", LOG_LEVELS, "info"),
    defaultRateLimit,
    routeRules: routeRules(env),
    jwt: jwtConfig(env),
    usageFlushMs: integer(env, "KEYWARD_USAGE_FLUSH_MS", 5000, 100, 3_600_000),
    cache: {
      maxEntries: integer(env, "KEYWARD_CACHE_MAX_ENTRIES", 100_000, 1, 10_000_000),
      ttlMs: integer(env, "KEYWARD_CACHE_TTL_MS", 30_000, 0, 3_600_000),
      negativeTtlMs: integer(env, "KEYWARD_CACHE_NEGATIVE_TTL_MS", 5_000, 0, 3_600_000),
      maxStaleMs: integer(env, "KEYWARD_CACHE_MAX_STALE_MS", 300_000, 1, 86_400_000),
    },
    mongodbTimeoutMs: integer(env, "KEYWARD_MONGODB_TIMEOUT_MS", 2_000, 100, 60_000),
    workers: workers(env),
    shutdownGraceMs: integer(env, "KEYWARD_SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    // Production waits for load balancers to take the replica out; development stops at once.
    shutdownDrainMs: integer(env, "KEYWARD_SHUTDOWN_DRAIN_MS", mode === "production" ? 5_000 : 0, 0, 600_000),
    limits: {
      maxConnections: integer(env, "KEYWARD_MAX_CONNECTIONS", 1_000, 1, 1_000_000),
      maxConcurrentStreams: integer(env, "KEYWARD_H2_MAX_CONCURRENT_STREAMS", 100, 1, 10_000),
      idleTimeoutMs: integer(env, "KEYWARD_IDLE_TIMEOUT_MS", 60_000, 100, 3_600_000),
      requestTimeoutMs: integer(env, "KEYWARD_REQUEST_TIMEOUT_MS", 30_000, 100, 600_000),
    },
    corsOrigins: corsOrigins(env),
  };
}
