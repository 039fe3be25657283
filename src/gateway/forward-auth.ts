/**
 * HTTP forward-auth on the internal port (`ANY /forward-auth[/*]`): Caddy's
 * `forward_auth`, Traefik's ForwardAuth, nginx's `auth_request` and Envoy's
 * HTTP ext_authz ask here about each public request. Decode, decide, encode:
 * everything else is the shared edge's.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { RawHeader } from "../domain/credentials.js";
import { requestIdFrom } from "../domain/request-context.js";
import type { AccessEntry, AccessLog } from "../edge/access-log.js";
import type { TrustedProxies } from "../edge/client-ip.js";
import { COMPAT_HEADER, nginxCompatAnswer, problemAnswer, replayedAnswer, unavailableAnswer } from "../edge/http-answer.js";
import type { HttpAnswer } from "../edge/http-answer.js";
import { FORWARD_AUTH_PATH, originalRequest } from "../edge/original-request.js";
import { fromRawHeaders, singleHeader, withoutGatewayHeaders } from "../edge/raw-headers.js";
import { SERVICE_TOKEN_HEADER } from "../edge/service-token.js";
import type { ServiceTokens } from "../edge/service-token.js";
import type { VerificationEdge } from "../edge/verification-edge.js";

export interface ForwardAuthDeps {
  edge: VerificationEdge;
  tokens: ServiceTokens;
  trustedProxies: TrustedProxies;
  logAccess: AccessLog;
}

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

/** `/forward-auth-problem`: where nginx has a captured denial answered again (see replayedAnswer). */
export const PROBLEM_REPLAY_PATH = "/forward-auth-problem";

const invalidToken = () => problemAnswer(401, "invalid_service_token", `a valid ${SERVICE_TOKEN_HEADER} is required`);

export function forwardAuthHandler(deps: ForwardAuthDeps) {
  async function answer(req: Request, headers: RawHeader[], entry: AccessEntry): Promise<HttpAnswer> {
    if (!deps.tokens.check(header(headers, SERVICE_TOKEN_HEADER)).ok) return invalidToken();
    const original = originalRequest(headers, req.method ?? "GET", req.url ?? "/");
    if (!original.ok) return problemAnswer(400, "invalid_path", original.reason);
    const decision = await deps.edge.decide({
      transport: "forward_auth",
      headers: withoutGatewayHeaders(headers),
      method: original.method,
      path: original.path,
      clientIp: deps.trustedProxies.clientIp(req.socket.remoteAddress ?? "", values(headers, "x-forwarded-for")),
    });
    if (decision.kind === "unavailable") return unavailableAnswer();
    if (decision.kind === "invalid") return problemAnswer(400, "invalid_request", decision.detail);
    const { verdict } = decision;
    Object.assign(entry, { verdict: verdict.code, keyId: verdict.caller?.keyId, organizationId: verdict.caller?.organizationId });
    return deps.edge.answer(verdict);
  }

  return async (req: Request, res: Response): Promise<void> => {
    const startedAt = performance.now();
    const headers = fromRawHeaders(req.rawHeaders);
    const entry = accessEntry(req, FORWARD_AUTH_PATH);
    let result = await answer(req, headers, entry);
    if (header(headers, COMPAT_HEADER)?.toLowerCase() === "nginx") result = nginxCompatAnswer(result);
    write(req, res, result, entry);
    deps.logAccess(entry, startedAt);
  };
}

/** Answers a denial nginx captured with its real status and body; needs the service token too. */
export function problemReplayHandler(tokens: ServiceTokens, logAccess: AccessLog) {
  return (req: Request, res: Response): void => {
    const startedAt = performance.now();
    const headers = fromRawHeaders(req.rawHeaders);
    const entry = accessEntry(req, PROBLEM_REPLAY_PATH);
    const result = tokens.check(header(headers, SERVICE_TOKEN_HEADER)).ok
      ? replayedAnswer(header(headers, "X-Keyward-Status"), header(headers, "X-Keyward-Problem"), headers)
      : invalidToken();
    write(req, res, result, entry);
    logAccess(entry, startedAt);
  };
}

function accessEntry(req: Request, route: string): AccessEntry {
  return { requestId: requestIdFrom(req.headers["x-request-id"]), transport: "forward_auth", method: req.method ?? "GET", route, status: 0 };
}

function header(headers: readonly RawHeader[], name: string): string | null {
  const value = singleHeader(headers, name);
  return value === "ambiguous" ? null : value;
}

function values(headers: readonly RawHeader[], name: string): string[] {
  return headers.filter((h) => h.name.toLowerCase() === name).map((h) => h.value);
}

function write(req: Request, res: Response, answer: HttpAnswer, entry: AccessEntry): void {
  const out: Record<string, string | string[]> = { "x-request-id": entry.requestId };
  for (const { name, value } of answer.headers) {
    const lower = name.toLowerCase();
    const previous = out[lower];
    out[lower] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  out["content-length"] = String(Buffer.byteLength(answer.body));
  entry.status = answer.status;
  // Both kinds of response take (status, headers); TypeScript cannot call the union.
  (res as ServerResponse).writeHead(answer.status, out);
  res.end(answer.body);
  req.resume(); // a request body, if any, is not ours to read
}
