/**
 * Reading the one credential of a public request from its raw headers.
 * Pure: no I/O. Header names are case-insensitive, values are trimmed, and a
 * header repeated with the same value counts once; two different credentials
 * are ambiguous and never resolved by picking one.
 */
import { UUID_PATTERN } from "./validation.js";
import type { VerifyCode } from "./verdict.js";

export interface RawHeader {
  name: string;
  value: string;
}

/** Limits on a VerifyRequest's headers; past them the request is malformed. */
export const HEADER_LIMITS = {
  maxCount: 1000,
  maxNameLength: 256,
  maxValueLength: 16 * 1024,
} as const;

export type Credential =
  /** An API key, from `Authorization: Bearer` or `x-api-key`. */
  | { type: "api_key"; key: string; senderId: string | null; workspaceHeader: string | null }
  /** Anything else after `Bearer`: a user access token to verify. */
  | { type: "user_token"; token: string; workspaceHeader: string | null };

export type CredentialResult =
  | { ok: true; credential: Credential }
  | { ok: false; code: Exclude<VerifyCode, "OK">; detail?: string };

const BEARER = /^bearer[ \t]+(\S+)$/i;

/**
 * The header's distinct trimmed values (names compared case-insensitively).
 * Only the few headers that carry credentials are collected.
 */
function collect(headers: readonly RawHeader[]): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const { name, value } of headers) {
    const lower = name.toLowerCase();
    if (!CREDENTIAL_HEADERS.has(lower)) continue;
    let values = found.get(lower);
    if (!values) found.set(lower, (values = new Set()));
    values.add(value.trim());
  }
  return found;
}

/** The headers a credential is read from (lower case). */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(["authorization", "x-api-key", "x-sender-id", "x-workspace-id"]);

function single(found: Map<string, Set<string>>, name: string): string | null | "ambiguous" {
  const values = found.get(name);
  if (!values) return null;
  if (values.size > 1) return "ambiguous";
  const [value] = values;
  return value === undefined || value === "" ? null : value;
}

export function readCredential(headers: readonly RawHeader[]): CredentialResult {
  const found = collect(headers);
  const authorization = single(found, "authorization");
  const apiKeyHeader = single(found, "x-api-key");
  const senderId = single(found, "x-sender-id");
  const workspaceHeader = single(found, "x-workspace-id");
  if (authorization === "ambiguous" || apiKeyHeader === "ambiguous") {
    return { ok: false, code: "AMBIGUOUS_CREDENTIALS" };
  }
  if (workspaceHeader === "ambiguous") {
    return { ok: false, code: "WORKSPACE_FORBIDDEN", detail: "More than one x-workspace-id" };
  }

  let bearer: string | null = null;
  if (authorization !== null) {
    const match = BEARER.exec(authorization);
    if (!match?.[1]) {
      return { ok: false, code: "MALFORMED_CREDENTIALS", detail: "Authorization must be 'Bearer <key>'" };
    }
    bearer = match[1];
  }
  if (bearer !== null && apiKeyHeader !== null && bearer !== apiKeyHeader) {
    return { ok: false, code: "AMBIGUOUS_CREDENTIALS" };
  }

  // The x-api-key style (Sent): the sender id is part of the credential.
  if (apiKeyHeader !== null || senderId !== null) {
    const key = apiKeyHeader ?? bearer;
    if (key === null) {
      return { ok: false, code: "MISSING_CREDENTIALS", detail: "Header x-api-key not found" };
    }
    if (senderId === null || senderId === "ambiguous" || !UUID_PATTERN.test(senderId)) {
      return { ok: false, code: "INVALID_SENDER_ID" };
    }
    return { ok: true, credential: { type: "api_key", key, senderId: senderId.toLowerCase(), workspaceHeader } };
  }

  if (bearer === null) return { ok: false, code: "MISSING_CREDENTIALS" };
  if (bearer.startsWith("sk_")) {
    return { ok: true, credential: { type: "api_key", key: bearer, senderId: null, workspaceHeader } };
  }
  return { ok: true, credential: { type: "user_token", token: bearer, workspaceHeader } };
}

/** Why a header list is not a well-formed VerifyRequest, or null when it is. */
export function checkHeaders(headers: readonly RawHeader[]): string | null {
  if (headers.length > HEADER_LIMITS.maxCount) {
    return `at most ${HEADER_LIMITS.maxCount} headers`;
  }
  for (const { name, value } of headers) {
    if (name.length === 0) return "a header name is empty";
    if (name.length > HEADER_LIMITS.maxNameLength) {
      return `header names are at most ${HEADER_LIMITS.maxNameLength} characters`;
    }
    if (value.length > HEADER_LIMITS.maxValueLength) {
      return `header values are at most ${HEADER_LIMITS.maxValueLength} characters`;
    }
  }
  return null;
}
