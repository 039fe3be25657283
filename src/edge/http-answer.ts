/**
 * A verdict as the HTTP answer of an authorizer (forward-auth, ext_authz's
 * denied response): allowed is exactly 200, empty body, the identity headers
 * and `RateLimit-*`; denied is the verdict's own `http`, verbatim; a request
 * keyward cannot decide is 503. Pure: no I/O.
 */
import { STATUS_CODES } from "node:http";
import type { HttpHeader, HttpVerdict, Verdict } from "../domain/verdict.js";
import { metadataHeaders } from "../domain/metadata-headers.js";
import { identityHeaders, rateLimitHeaders } from "./identity.js";

export const PROBLEM_JSON = "application/problem+json";

export type HttpAnswer = HttpVerdict;

/** `forwardMetadata`: the metadata keys forwarded as `X-Keyward-Meta-<key>` (KEYWARD_FORWARD_METADATA). */
export function verdictAnswer(verdict: Verdict, forwardMetadata: readonly string[] = []): HttpAnswer {
  if (!verdict.allowed || !verdict.caller) return verdict.http;
  return {
    status: 200,
    headers: [
      ...identityHeaders(verdict.caller),
      ...metadataHeaders(verdict.metadata, forwardMetadata),
      ...rateLimitHeaders(verdict),
      { name: "Cache-Control", value: "no-store" },
    ],
    body: "",
  };
}

/** An RFC 9457 problem, shaped like a verdict's body (`type, title, status, detail, code`). */
export function problemAnswer(status: number, code: string, detail: string, headers: HttpHeader[] = []): HttpAnswer {
  const body = JSON.stringify({ type: "about:blank", title: STATUS_CODES[status] ?? "Error", status, detail, code });
  return { status, headers: [{ name: "Content-Type", value: PROBLEM_JSON }, ...headers], body };
}

/** keyward cannot decide (storage unreachable, ...): never "allowed". */
export function unavailableAnswer(): HttpAnswer {
  return problemAnswer(503, "unavailable", "keyward cannot decide right now", [{ name: "Retry-After", value: "1" }]);
}

/** `X-Keyward-Compat: nginx`: the gateway asks for answers nginx's auth_request can carry. */
export const COMPAT_HEADER = "X-Keyward-Compat";

/**
 * nginx's `auth_request` passes 401 and 403 on and turns every other status
 * into 500. So a denial is answered 401 or 403, with its real status in
 * `X-Keyward-Status` and its body, base64url, in `X-Keyward-Problem`: the
 * shipped nginx config restores both (and `Retry-After`, `RateLimit-*`).
 * Allowed answers and 5xx (cannot decide: nginx fails closed with 500) pass
 * unchanged.
 */
export function nginxCompatAnswer(answer: HttpAnswer): HttpAnswer {
  if (answer.status < 400 || answer.status >= 500) return answer;
  return {
    status: answer.status === 401 ? 401 : 403,
    headers: [
      ...answer.headers,
      { name: "X-Keyward-Status", value: String(answer.status) },
      { name: "X-Keyward-Problem", value: Buffer.from(answer.body, "utf8").toString("base64url") },
    ],
    body: answer.body,
  };
}

/** Headers of a problem that `nginxCompatAnswer` carried and a gateway gives back (the replay). */
const REPLAYED_HEADERS = /^(retry-after|ratelimit-limit|ratelimit-remaining|ratelimit-reset|www-authenticate)$/i;

/**
 * The answer `X-Keyward-Status` + `X-Keyward-Problem` describe, for the
 * gateway that cannot decode base64url itself (nginx). Only a problem of
 * keyward's shape whose status matches is replayed: this never echoes
 * arbitrary content. Anything else is a plain 403.
 */
export function replayedAnswer(status: string | null, problem: string | null, headers: readonly HttpHeader[]): HttpAnswer {
  const code = Number(status);
  let body: unknown = null;
  try {
    body = JSON.parse(Buffer.from(problem ?? "", "base64url").toString("utf8"));
  } catch {
    body = null;
  }
  const fields = body as Record<string, unknown> | null;
  const valid =
    Number.isInteger(code) && code >= 400 && code < 500 &&
    typeof fields === "object" && fields !== null && !Array.isArray(fields) &&
    fields.status === code && typeof fields.code === "string" && typeof fields.detail === "string" &&
    Object.keys(fields).every((k) => ["type", "title", "status", "detail", "code"].includes(k));
  if (!valid) return problemAnswer(403, "forbidden", "Access denied");
  // nginx's auth_request passes a 401's WWW-Authenticate on itself; a second copy would repeat it.
  const replayed = headers.filter(
    (h) => REPLAYED_HEADERS.test(h.name) && h.value !== "" && !(code === 401 && /^www-authenticate$/i.test(h.name)),
  );
  return {
    status: code,
    headers: [{ name: "Content-Type", value: PROBLEM_JSON }, ...replayed],
    body: JSON.stringify(fields),
  };
}
