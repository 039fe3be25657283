/**
 * One access-log line and one latency observation per request, whatever the
 * transport: request id, transport, method and route, status (HTTP status or
 * RPC code, and the verdict code when there is one), key and organization
 * when known, duration. Never a key, hash, hint, token or header value: the
 * entry has no field that could hold one.
 */
import type { Logger } from "pino";
import type { Transport } from "../app/verify.js";
import type { Metrics } from "../metrics.js";

export interface AccessEntry {
  requestId: string;
  transport: Transport;
  /** HTTP method, or the RPC's `POST`. */
  method: string;
  /** A route template (`/v1/api-keys/{id}`) or an RPC procedure — never a raw path with ids in it. */
  route: string;
  /** HTTP status, or the RPC code's name (`ok`, `unavailable`, ...). */
  status: number | string;
  /** Verify's verdict code, when the request was a Verify. */
  verdict?: string;
  keyId?: string;
  organizationId?: string;
}

export type AccessLog = (entry: AccessEntry, startedAt: number) => void;

/** Logs at info and observes `keyward_request_duration_seconds`; `startedAt` is a `performance.now()`. */
export function accessLog(logger: Logger, metrics: Pick<Metrics, "requestDuration">): AccessLog {
  return (entry, startedAt) => {
    const seconds = (performance.now() - startedAt) / 1000;
    metrics.requestDuration.observe({ transport: entry.transport, route: entry.route, status: String(entry.status) }, seconds);
    if (!logger.isLevelEnabled("info")) return;
    logger.info({ ...withoutEmpty(entry), durationMs: Math.round(seconds * 1e6) / 1e3 }, "request");
  };
}

function withoutEmpty(entry: AccessEntry): Partial<AccessEntry> {
  const out: Partial<AccessEntry> = {};
  for (const [name, value] of Object.entries(entry) as [keyof AccessEntry, AccessEntry[keyof AccessEntry]][]) {
    if (value !== undefined && value !== "") (out as Record<string, unknown>)[name] = value;
  }
  return out;
}
