/**
 * Authentication of dashboard requests through the same Verifier as every
 * other caller: a user access token of the organization, or an API key of the
 * organization holding the scope the route needs (or unscoped). A denial is
 * answered exactly as the verdict says (status, headers, problem+json body).
 */
import type { IncomingMessage } from "node:http";
import type { Verifier } from "../app/verify.js";
import type { RawHeader } from "../domain/credentials.js";
import type { Verdict } from "../domain/verdict.js";
import type { HeaderValues, RestResponse } from "./response.js";

/** What a route needs: reading keys, or changing them. */
export type Access = "read" | "write";

export const API_KEYS_READ_SCOPE = "api_keys:read";
export const API_KEYS_WRITE_SCOPE = "api_keys:write";

export type Authentication =
  | { ok: true; organizationId: string; headers: HeaderValues }
  | { ok: false; response: RestResponse };

export async function authenticate(verifier: Verifier, req: IncomingMessage, access: Access): Promise<Authentication> {
  const headers = rawHeaders(req);
  const verify = (requiredScope: string) =>
    verifier.verify({ headers, requiredScope, clientIp: req.socket.remoteAddress ?? "" });

  let verdict = await verify(access === "write" ? API_KEYS_WRITE_SCOPE : API_KEYS_READ_SCOPE);
  // A key that may change keys may also read them. The first verdict charged
  // no quota (scope is checked before the rate limit), so asking again is fair.
  if (
    access === "read" &&
    verdict.code === "INSUFFICIENT_SCOPE" &&
    verdict.caller?.scopes.includes(API_KEYS_WRITE_SCOPE)
  ) {
    verdict = await verify(API_KEYS_WRITE_SCOPE);
  }
  if (!verdict.allowed || !verdict.caller) return { ok: false, response: verdictResponse(verdict) };
  return { ok: true, organizationId: verdict.caller.organizationId, headers: verdictHeaders(verdict) };
}

function rawHeaders(req: IncomingMessage): RawHeader[] {
  const headers: RawHeader[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    headers.push({ name: raw[i] ?? "", value: raw[i + 1] ?? "" });
  }
  return headers;
}

/** The verdict's headers (rate limit, WWW-Authenticate, ...), content type aside. */
function verdictHeaders(verdict: Verdict): HeaderValues {
  const headers: Record<string, string[]> = {};
  for (const { name, value } of verdict.http.headers) {
    const lower = name.toLowerCase();
    if (lower === "content-type") continue;
    (headers[lower] ??= []).push(value);
  }
  return headers;
}

function verdictResponse(verdict: Verdict): RestResponse {
  const type = verdict.http.headers.find((h) => h.name.toLowerCase() === "content-type")?.value;
  return {
    status: verdict.http.status,
    headers: verdictHeaders(verdict),
    body: { text: verdict.http.body, type: type ?? "application/problem+json" },
  };
}
