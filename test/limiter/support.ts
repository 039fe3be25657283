/**
 * Shared steps of the rate-limit tests: an organization with a plan and its
 * keys, verdict headers, /metrics, a service whose logs can be read, and a
 * Redis that hangs.
 */
import { randomUUID } from "node:crypto";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { pino } from "pino";
import { inject } from "vitest";
import { Mode } from "../../gen/authn/v1/common_pb.js";
import type { VerifyResponse } from "../../gen/authn/v1/auth_pb.js";
import { loadConfig } from "../../src/config.js";
import { startKeyward } from "../../src/service.js";
import type { Keyward } from "../../src/service.js";
import { clientsFor } from "../support/keyward.js";
import type { Clients } from "../support/keyward.js";

export interface PlannedOrganization {
  id: string;
  /** Creates a key of the organization; returns its plaintext. */
  newKey(options?: { mode?: Mode; scopes?: string[]; plan?: { limit: number; windowMs: number } }): Promise<string>;
}

/** Registers an organization with `limit` per `windowMs` through OrganizationService. */
export async function organizationWithPlan(
  clients: Clients,
  limit: number,
  windowMs: number,
  extra: { workspaces?: string[] } = {},
): Promise<PlannedOrganization> {
  const id = `org-${randomUUID()}`;
  await clients.organizations.upsertOrganization({
    organization: { id, workspaces: extra.workspaces ?? [], rateLimit: { limit, window: durationFromMs(windowMs) } },
  });
  return {
    id,
    async newKey(options = {}) {
      const { key } = await clients.apiKeys.createApiKey({
        organizationId: id,
        name: "limited",
        mode: options.mode ?? Mode.LIVE,
        scopes: options.scopes ?? [],
        ...(options.plan
          ? { rateLimit: { limit: options.plan.limit, window: durationFromMs(options.plan.windowMs) } }
          : {}),
      });
      return key;
    },
  };
}

export function bearer(key: string) {
  return [{ name: "authorization", value: `Bearer ${key}` }];
}

/** The verdict's HTTP header `name` (case-insensitive), or undefined. */
export function httpHeader(verdict: VerifyResponse, name: string): string | undefined {
  return verdict.http?.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
}

/** The value of one unlabelled sample in GET /metrics (0 when absent). */
export async function metricValue(httpUrl: string, name: string): Promise<number> {
  const res = await fetch(`${httpUrl}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const line = (await res.text()).split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface LoggedKeyward {
  keyward: Keyward;
  clients: Clients;
  /** Every log line so far, parsed. */
  logs: LogLine[];
  stop(): Promise<void>;
}

/**
 * The real service on port 0 (MongoDB, a fresh database), like
 * startTestKeyward, but with its log lines kept for the test to read.
 */
export async function startLoggedKeyward(env: Record<string, string>): Promise<LoggedKeyward> {
  const config = loadConfig({
    KEYWARD_HOST: "127.0.0.1",
    KEYWARD_RPC_PORT: "0",
    KEYWARD_HTTP_PORT: "0",
    MONGODB_URI: inject("mongoUri"),
    KEYWARD_MONGODB_DATABASE: `kw_${randomUUID().replaceAll("-", "").slice(0, 16)}`,
    ...env,
  });
  const logs: LogLine[] = [];
  const logger = pino({ level: "info", formatters: { level: (level) => ({ level }) } }, {
    write: (line: string) => void logs.push(JSON.parse(line) as LogLine),
  });
  const keyward = await startKeyward(config, logger);
  return { keyward, clients: clientsFor(keyward.server.rpcUrl, "grpc"), logs, stop: () => keyward.stop() };
}

/**
 * A TCP proxy in front of Redis that can stop passing Redis's replies on,
 * like a Redis that hangs with its connections open.
 */
