/**
 * Authentication of dashboard requests through the same Verifier as every
 * other caller: a user access token of the organization, or an API key of the
 * organization holding the scope the route needs (or unscoped). A denial is
 * answered exactly as the verdict says (status, headers, problem+json body);
 * on success the verdict's caller becomes the actor the use cases judge.
 */
import type { IncomingMessage } from "node:http";
import type { Verifier } from "../app/verify.js";
import { API_KEYS_READ_SCOPE, API_KEYS_WRITE_SCOPE, AUDIT_READ_SCOPE } from "../domain/privilege.js";
import type { Actor } from "../domain/privilege.js";
import { actorFromCaller } from "../domain/request-context.js";
import type { Verdict } from "../domain/verdict.js";
import type { HeaderValues, RestResponse } from "./response.js";
import { fromRawHeaders } from "../edge/raw-headers.js";

/** What a route needs: reading keys, changing them, or reading the audit trail. */
export type Access = "read" | "write" | "audit";

/** The scopes that grant each access; the first is the one a denial names. */
const GRANTING_SCOPES: Readonly<Record<Access, readonly string[]>> = {
  read: [API_KEYS_READ_SCOPE, API_KEYS_WRITE_SCOPE],
  write: [API_KEYS_WRITE_SCOPE],
  audit: [AUDIT_READ_SCOPE, API_KEYS_READ_SCOPE, API_KEYS_WRITE_SCOPE],
};

export type Authentication =
  | { ok: true; organizationId: string; actor: Actor; headers: HeaderValues }
  | { ok: false; response: RestResponse };

export async function authenticate(
  verifier: Verifier,
  req: IncomingMessage,
  access: Access,
  clientIp: string,
): Promise<Authentication> {
  const headers = fromRawHeaders(req.rawHeaders);
  // One Verify: any scope that grants this access will do (api_keys:write
  // implies read), so a reading write key is never counted as a denial.
  const verdict = await verifier.verify({ transport: "rest", headers, grantingScopes: GRANTING_SCOPES[access], clientIp });
  if (!verdict.allowed || !verdict.caller) return { ok: false, response: verdictResponse(verdict) };
  return {
    ok: true,
    organizationId: verdict.caller.organizationId,
    actor: actorFromCaller(verdict.caller),
    headers: verdictHeaders(verdict),
  };
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
