/**
 * CORS on /v1/ (the Sent seed: any origin, all methods, all headers), with
 * the origins configurable. With `*` every response allows any origin; with a
 * list, a listed Origin is echoed and responses vary by Origin. Preflights
 * echo the requested headers. Credentials (cookies) are never allowed: the
 * dashboard authenticates with the Authorization header.
 */
import type { IncomingMessage } from "node:http";
import type { HeaderValues } from "./response.js";

/** How long a browser may cache a preflight answer, in seconds. */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** Response headers a browser script may read (paging, rate limits, auth errors, request id). */
const EXPOSED_HEADERS = [
  "Link",
  "X-Next-Cursor",
  "Location",
  "RateLimit-Limit",
  "RateLimit-Remaining",
  "RateLimit-Reset",
  "Retry-After",
  "WWW-Authenticate",
  "X-Request-Id",
].join(", ");

/** A comma-separated list of header names (RFC 9110 tokens). */
const HEADER_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+([ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;
const MAX_REQUESTED_HEADERS_LENGTH = 2048;

/**
 * `KEYWARD_CORS_ORIGINS`: `*`, or a comma-separated list of origins
 * (`https://dashboard.example.com`, no path). Throws on anything else.
 */
export function parseCorsOrigins(raw: string): string[] {
  const entries = raw
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (entries.length === 0) throw new Error("names no origin (use * for any)");
  if (entries.includes("*")) {
    if (entries.length > 1) throw new Error("* cannot be combined with other origins");
    return ["*"];
  }
  return entries.map((entry) => {
    let origin: string;
    try {
      origin = new URL(entry).origin;
    } catch {
      throw new Error(`"${entry}" is not an origin like https://dashboard.example.com`);
    }
    if (origin === "null" || origin !== entry.replace(/\/$/, "").toLowerCase()) {
      throw new Error(`"${entry}" is not an origin like https://dashboard.example.com (scheme, host, port; no path)`);
    }
    return origin;
  });
}

export class CorsPolicy {
  private readonly any: boolean;
  private readonly origins: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.any = origins.includes("*");
    this.origins = new Set(origins);
  }

  /** Headers of an actual (non-preflight) response. */
  responseHeaders(req: IncomingMessage): HeaderValues {
    const allowed = this.allowedOrigin(req);
    const headers: HeaderValues = this.any ? {} : { vary: "Origin" };
    if (allowed !== null) {
      headers["access-control-allow-origin"] = allowed;
      headers["access-control-expose-headers"] = EXPOSED_HEADERS;
    }
    return headers;
  }

  /** Headers of a preflight answer for a path that allows `methods`. */
  preflightHeaders(req: IncomingMessage, methods: readonly string[]): HeaderValues {
    const headers: HeaderValues = {
      vary: this.any
        ? "Access-Control-Request-Headers"
        : "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    };
    const allowed = this.allowedOrigin(req);
    if (allowed === null) return headers;
    headers["access-control-allow-origin"] = allowed;
    headers["access-control-allow-methods"] = methods.join(", ");
    const requested = (req.headers["access-control-request-headers"] ?? "").trim();
    if (requested !== "" && requested.length <= MAX_REQUESTED_HEADERS_LENGTH && HEADER_LIST.test(requested)) {
      headers["access-control-allow-headers"] = requested;
    }
    headers["access-control-max-age"] = String(PREFLIGHT_MAX_AGE_SECONDS);
    return headers;
  }

  /** The Access-Control-Allow-Origin value for this request, or null. */
  private allowedOrigin(req: IncomingMessage): string | null {
    if (this.any) return "*";
    const origin = req.headers.origin;
    return origin !== undefined && this.origins.has(origin) ? origin : null;
  }
}
