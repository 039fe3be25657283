/**
 * Starts the real service on port 0 for a test, backed by the run's real
 * MongoDB-compatible server, with one database per call so tests never share
 * state. Clients for every service and protocol come with it.
 */
import { randomUUID } from "node:crypto";
import { createClient } from "@connectrpc/connect";
import type { Client, Interceptor, Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { MongoClient } from "mongodb";
import { pino } from "pino";
import { inject } from "vitest";
import { ApiKeyService } from "../../gen/authn/v1/api_key_pb.js";
import { AuthService } from "../../gen/authn/v1/auth_pb.js";
import { OrganizationService } from "../../gen/authn/v1/organization_pb.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { startKeyward } from "../../src/service.js";
import type { Keyward, KeywardOptions } from "../../src/service.js";

export type Protocol = "grpc" | "connect" | "grpc-web";
export const PROTOCOLS: readonly Protocol[] = ["grpc", "connect", "grpc-web"];

export interface Clients {
  auth: Client<typeof AuthService>;
  apiKeys: Client<typeof ApiKeyService>;
  organizations: Client<typeof OrganizationService>;
}

/** One parsed log line of the service. */
export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface TestKeyward {
  keyward: Keyward;
  /** Every log line so far, parsed (with `captureLogs`; else empty). */
  logs: LogLine[];
  /** The MongoDB database this instance uses (null: embedded store). */
  database: string | null;
  clients(protocol: Protocol, token?: string): Clients;
  stop(): Promise<void>;
}

export interface TestKeywardOptions {
  /** Extra environment variables (KEYWARD_*). */
  env?: Record<string, string>;
  /** Use the embedded in-memory store instead of MongoDB. */
  embedded?: boolean;
  /** Keep the service's info-and-above log lines in `logs`. */
  captureLogs?: boolean;
  /** Wraps the service's audit log (fault injection). */
  auditLog?: KeywardOptions["auditLog"];
  /** false: the hot methods through connect-node too (src/rpc/direct-lane.ts). */
  directLane?: boolean;
}

export async function startTestKeyward(options: TestKeywardOptions = {}): Promise<TestKeyward> {
  const database = options.embedded ? null : `kw_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const env: Record<string, string> = {
    KEYWARD_HOST: "127.0.0.1",
    KEYWARD_RPC_PORT: "0",
    KEYWARD_HTTP_PORT: "0",
    KEYWARD_LOG_LEVEL: "silent",
    // Many test files share two cores and one FerretDB: a generous storage
    // deadline, so a slow moment is not a failure. Deadline tests set their own.
    KEYWARD_MONGODB_TIMEOUT_MS: "10000",
    ...(database ? { MONGODB_URI: inject("mongoUri"), KEYWARD_MONGODB_DATABASE: database } : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const logs: LogLine[] = [];
  const logger = options.captureLogs
    ? pino({ level: "info", formatters: { level: (level) => ({ level }) } }, {
        write: (line: string) => void logs.push(JSON.parse(line) as LogLine),
      })
    : createLogger(config.logLevel);
  const keyward = await startKeyward(config, logger, {
    auditLog: options.auditLog,
    ...(options.directLane === undefined ? {} : { directLane: options.directLane }),
  });
  return {
    keyward,
    logs,
    database,
    clients: (protocol, token) => clientsFor(keyward.server.rpcUrl, protocol, token),
    stop: () => keyward.stop(),
  };
}

export function transportFor(baseUrl: string, protocol: Protocol, token?: string): Transport {
  const interceptors: Interceptor[] = token
    ? [
        (next) => (req) => {
          req.header.set("authorization", `Bearer ${token}`);
          return next(req);
        },
      ]
    : [];
  switch (protocol) {
    case "grpc":
      return createGrpcTransport({ baseUrl, interceptors });
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion: "2", interceptors });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "2", interceptors });
  }
}

export function clientsFor(baseUrl: string, protocol: Protocol, token?: string): Clients {
  const transport = transportFor(baseUrl, protocol, token);
  return {
    auth: createClient(AuthService, transport),
    apiKeys: createClient(ApiKeyService, transport),
    organizations: createClient(OrganizationService, transport),
  };
}

/** A direct driver connection to the run's MongoDB-compatible server. */
export async function openMongo(): Promise<MongoClient> {
  const client = new MongoClient(inject("mongoUri"));
  await client.connect();
  return client;
}
