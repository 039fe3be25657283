/**
 * Who is asking, and the request they ask in: what every management use case
 * takes, and what its audit event records. Pure: no I/O.
 */
import { randomUUID } from "node:crypto";
import type { Actor } from "./privilege.js";
import type { Caller } from "./verdict.js";

export interface RequestContext {
  actor: Actor;
  /** The caller's X-Request-Id when sane, else a new one. */
  requestId: string;
  /** The client's address as this service saw it; empty when unknown. */
  clientIp: string;
}

/** Visible ASCII, 1 to 128 characters. */
const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The caller's request id when it is sane, else a new UUID v7. */
export function requestIdFrom(header: string | readonly string[] | undefined | null): string {
  return typeof header === "string" && SANE_REQUEST_ID.test(header) ? header : newRequestId();
}

/**
 * A UUID v7 (RFC 9562): 48 bits of Unix time in ms, then random bits — here
 * those of a v4 from Node's pooled generator, the cheapest source there is,
 * with the version nibble set to 7 (the variant bits are already right).
 */
export function newRequestId(): string {
  const now = Date.now();
  if (now !== prefixAt) {
    const time = now.toString(16).padStart(12, "0");
    prefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
    prefixAt = now;
  }
  return prefix + randomUUID().slice(15);
}
/** The time part of the ids of the current millisecond, written once per millisecond. */
let prefix = "";
let prefixAt = -1;

/** A socket's remote address, IPv4-mapped IPv6 (`::ffff:1.2.3.4`) written as IPv4. */
export function clientIpFrom(remoteAddress: string | undefined): string {
  if (!remoteAddress) return "";
  return remoteAddress.startsWith("::ffff:") && remoteAddress.includes(".") ? remoteAddress.slice(7) : remoteAddress;
}

/** The actor a verified caller acts as: a user, or an API key with its grant. */
export function actorFromCaller(caller: Caller): Actor {
  if (caller.principal === "user") {
    return { type: "user", id: caller.userId, organizationId: caller.organizationId };
  }
  return {
    type: "api_key",
    id: caller.keyId,
    organizationId: caller.organizationId,
    scopes: caller.scopes,
    mode: caller.mode,
    kind: caller.kind,
    workspaceId: caller.keyWorkspaceId,
    ipAllowlist: caller.keyIpAllowlist,
    credits: caller.keyCredits,
  };
}
