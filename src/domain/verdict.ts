/**
 * Verdicts: the answer to "who is calling, and may they go on?", with the
 * HTTP response a gateway can forward verbatim. Pure: no I/O.
 */
import type { KeyKind, Mode } from "./api-key.js";
import type { CreditTerms } from "./credits.js";

export type VerifyCode =
  | "OK"
  | "MISSING_CREDENTIALS"
  | "MALFORMED_CREDENTIALS"
  | "INVALID_SENDER_ID"
  | "INVALID_CREDENTIALS"
  | "KEY_EXPIRED"
  | "KEY_REVOKED"
  | "KEY_DISABLED"
  | "ORGANIZATION_SUSPENDED"
  | "INSUFFICIENT_SCOPE"
  | "WORKSPACE_REQUIRED"
  | "WORKSPACE_FORBIDDEN"
  | "AMBIGUOUS_CREDENTIALS"
  | "RATE_LIMITED"
  | "IP_NOT_ALLOWED"
  | "USAGE_EXCEEDED";

/** HTTP status and default detail of each code (seed wording where a seed gives one). */
export const VERIFY_CODES: Readonly<Record<VerifyCode, { status: number; detail: string }>> = {
  OK: { status: 200, detail: "" },
  MISSING_CREDENTIALS: { status: 401, detail: "Authorization header not found" },
  MALFORMED_CREDENTIALS: { status: 401, detail: "Malformed API credentials" },
  INVALID_SENDER_ID: { status: 401, detail: "Invalid x-sender-id" },
  INVALID_CREDENTIALS: { status: 401, detail: "Invalid API credentials!" },
  KEY_EXPIRED: { status: 401, detail: "API key has expired" },
  KEY_REVOKED: { status: 401, detail: "API key has been revoked" },
  KEY_DISABLED: { status: 401, detail: "API key is disabled" },
  ORGANIZATION_SUSPENDED: { status: 403, detail: "Organization is suspended" },
  INSUFFICIENT_SCOPE: { status: 403, detail: "API key does not have the required scope" },
  WORKSPACE_REQUIRED: { status: 400, detail: "A master key must name a workspace (x-workspace-id)" },
  WORKSPACE_FORBIDDEN: { status: 403, detail: "API key has no access to this workspace" },
  AMBIGUOUS_CREDENTIALS: { status: 400, detail: "More than one credential in the request" },
  RATE_LIMITED: { status: 429, detail: "Rate limit exceeded" },
  IP_NOT_ALLOWED: { status: 403, detail: "API key is not allowed from this IP address" },
  USAGE_EXCEEDED: { status: 429, detail: "API key has no credits left" },
};

const TITLES: Readonly<Record<number, string>> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  429: "Too Many Requests",
};

export type Principal = "api_key" | "user";

/** Where the caller stands in its rate-limit pool. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  resetMs: number;
  retryAfterMs: number;
}

export interface HttpHeader {
  name: string;
  value: string;
}

export interface HttpVerdict {
  status: number;
  headers: HttpHeader[];
  body: string;
}

/** Who the caller is, once known. */
export interface Caller {
  principal: Principal;
  organizationId: string;
  keyId: string;
  userId: string;
  mode: Mode;
  kind: KeyKind;
  scopes: string[];
  unscoped: boolean;
  /** The workspace this request acts in ("" for none). */
  workspaceId: string;
  /** The workspace the key is bound to; null when unbound, for master keys and users. */
  keyWorkspaceId: string | null;
  /** The key's IP allowlist; empty for users and keys usable from any address. */
  keyIpAllowlist: readonly string[];
  /** The key's credits (remaining after this request); null for users and unlimited keys. */
  keyCredits: CreditTerms | null;
}

export interface Verdict {
  allowed: boolean;
  code: VerifyCode;
  /** Set once authentication succeeded (also on later denials). */
  caller: Caller | null;
  rateLimit: RateLimitState | null;
  /** The key's metadata when allowed; empty otherwise. */
  metadata: Readonly<Record<string, string>>;
  /** The key's credits left (after this request when allowed); null: unlimited, or not a key. */
  creditsRemaining: number | null;
  http: HttpVerdict;
}

/** The problem+json `code`: the verify code in lower case (`insufficient_scope`, ...). */
export function problemCode(code: VerifyCode): string {
  return code.toLowerCase();
}

function rateLimitHeaders(state: RateLimitState): HttpHeader[] {
  return [
    { name: "RateLimit-Limit", value: String(state.limit) },
    { name: "RateLimit-Remaining", value: String(state.remaining) },
    { name: "RateLimit-Reset", value: String(Math.ceil(state.resetMs / 1000)) },
  ];
}

const NO_METADATA: Readonly<Record<string, string>> = Object.freeze({});

export interface AllowOptions {
  /** The key's metadata. */
  metadata?: Readonly<Record<string, string>>;
  /** The key's credits left after this request; absent: unlimited. */
  creditsRemaining?: number | null;
}

export function allow(caller: Caller, rateLimit: RateLimitState | null, options: AllowOptions = {}): Verdict {
  return {
    allowed: true,
    code: "OK",
    caller,
    rateLimit,
    metadata: options.metadata ?? NO_METADATA,
    creditsRemaining: options.creditsRemaining ?? null,
    http: { status: 200, headers: rateLimit ? rateLimitHeaders(rateLimit) : [], body: "" },
  };
}

export interface DenyOptions {
  /** Overrides the code's default detail text. */
  detail?: string;
  caller?: Caller | null;
  rateLimit?: RateLimitState | null;
  /** The scope that was missing, for INSUFFICIENT_SCOPE. */
  scope?: string;
  /** USAGE_EXCEEDED: the credits left (fewer than the cost). */
  creditsRemaining?: number;
  /** USAGE_EXCEEDED: milliseconds until the next refill; absent without one. */
  retryAfterMs?: number | null;
}

export function deny(code: Exclude<VerifyCode, "OK">, options: DenyOptions = {}): Verdict {
  const { status, detail: defaultDetail } = VERIFY_CODES[code];
  const detail = options.detail ?? defaultDetail;
  const title = TITLES[status] ?? "Error";
  const headers: HttpHeader[] = [{ name: "Content-Type", value: "application/problem+json" }];
  if (status === 401) {
    headers.push({ name: "WWW-Authenticate", value: wwwAuthenticate(code) });
  }
  if (code === "INSUFFICIENT_SCOPE" && options.scope) {
    headers.push({
      name: "WWW-Authenticate",
      value: `Bearer realm="api", error="insufficient_scope", scope="${options.scope}"`,
    });
  }
  const rateLimit = options.rateLimit ?? null;
  if (code === "RATE_LIMITED" && rateLimit) {
    headers.push(retryAfter(rateLimit.retryAfterMs));
  }
  if (code === "USAGE_EXCEEDED" && options.retryAfterMs != null) {
    headers.push(retryAfter(options.retryAfterMs));
  }
  if ((code === "RATE_LIMITED" || code === "USAGE_EXCEEDED") && rateLimit) {
    headers.push(...rateLimitHeaders(rateLimit));
  }
  const body = JSON.stringify({
    type: "about:blank",
    title,
    status,
    detail,
    code: problemCode(code),
  });
  return {
    allowed: false,
    code,
    caller: options.caller ?? null,
    rateLimit,
    metadata: NO_METADATA,
    creditsRemaining: options.creditsRemaining ?? null,
    http: { status, headers, body },
  };
}

/** Whole seconds, at least 1. */
function retryAfter(ms: number): HttpHeader {
  return { name: "Retry-After", value: String(Math.max(1, Math.ceil(ms / 1000))) };
}

function wwwAuthenticate(code: VerifyCode): string {
  // RFC 6750: no error attribute when no credential was presented at all.
  return code === "MISSING_CREDENTIALS"
    ? 'Bearer realm="api"'
    : 'Bearer realm="api", error="invalid_token"';
}
