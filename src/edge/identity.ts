/**
 * The identity a gateway passes to its upstream once keyward allows a
 * request. Every header is always present (`-` where there is no value), so a
 * gateway that copies them overwrites any client-sent copy instead of letting
 * it through. Pure: no I/O.
 */
import type { Caller, HttpHeader, Verdict } from "../domain/verdict.js";

export const IDENTITY_HEADERS = [
  "X-Keyward-Organization-Id",
  "X-Keyward-Key-Id",
  "X-Keyward-Mode",
  "X-Keyward-Scopes",
  "X-Keyward-Workspace-Id",
  "X-Keyward-Principal",
  "X-Keyward-User-Id",
] as const;

/** Stands for "none" in an identity header: a header value cannot be empty in every gateway. */
export const NO_VALUE = "-";

const or = (value: string): string => (value === "" ? NO_VALUE : value);

/** The identity headers of a caller, in IDENTITY_HEADERS order. */
export function identityHeaders(caller: Caller): HttpHeader[] {
  const values = [
    caller.organizationId,
    caller.keyId,
    caller.mode,
    caller.unscoped ? "*" : caller.scopes.join(" "),
    caller.workspaceId,
    caller.principal,
    caller.userId,
  ];
  return IDENTITY_HEADERS.map((name, i) => ({ name, value: or(values[i] ?? "") }));
}

/** The verdict's `RateLimit-*` headers (none before the caller is known). */
export function rateLimitHeaders(verdict: Verdict): HttpHeader[] {
  return verdict.http.headers.filter((h) => h.name.toLowerCase().startsWith("ratelimit-"));
}
