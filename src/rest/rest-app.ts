/**
 * The dashboard's REST shim on /v1/: route, answer CORS preflights,
 * authenticate through the Verifier, run the route, and answer every failure
 * as application/problem+json.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { ApiKeys } from "../app/api-keys.js";
import type { AuditTrail } from "../app/audit-trail.js";
import type { Verifier } from "../app/verify.js";
import type { TrustedProxies } from "../edge/client-ip.js";
import type { AccessEntry } from "../edge/access-log.js";
import type { RequestContext } from "../domain/request-context.js";
import { authenticate } from "./authenticate.js";
import { CorsPolicy } from "./cors.js";
import { badRequest, RestProblem, toRestProblem } from "./problem.js";
import { problemResponse, writeResponse } from "./response.js";
import type { HeaderValues, RestResponse } from "./response.js";
import { REST_ROUTES } from "./routes.js";
import type { QueryParams, RestRoute } from "./routes.js";
import { Router } from "./router.js";

export interface RestDeps {
  apiKeys: ApiKeys;
  audit: AuditTrail;
  verifier: Verifier;
  /** Allowed browser origins: `["*"]` for any, else exact origins. */
  corsOrigins: readonly string[];
  /** Whose X-Forwarded-For names the client (KEYWARD_TRUSTED_PROXIES); none: the socket peer is. */
  trustedProxies: TrustedProxies;
  logger: Logger;
}

/** Handles a request whose path is under /v1/. */
export function restApp(deps: RestDeps) {
  const router = new Router<RestRoute>(REST_ROUTES);
  const cors = new CorsPolicy(deps.corsOrigins);

  /** `access` is this request's access-log entry: the route, key and organization are noted in it. */
  return async (req: IncomingMessage, res: ServerResponse, access: AccessEntry): Promise<void> => {
    const url = req.url ?? "/";
    const queryStart = url.indexOf("?");
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    const queryString = queryStart === -1 ? "" : url.slice(queryStart + 1);
    const method = req.method ?? "GET";
    const requestId = access.requestId;
    const forwardedFor = req.headers["x-forwarded-for"];
    const clientIp = deps.trustedProxies.clientIp(
      req.socket.remoteAddress ?? "",
      forwardedFor === undefined ? [] : [forwardedFor].flat(),
    );

    let response: RestResponse;
    let corsHeaders: HeaderValues = { ...cors.responseHeaders(req), "x-request-id": requestId };
    try {
      const match = router.match(method, path);
      if (match.type === "not_found") {
        throw new RestProblem(404, "not_found", `No route for ${method} ${path.slice(0, 200)}`);
      } else if (match.type === "method_not_allowed") {
        const allow = [...match.allowed, "OPTIONS"];
        if (method === "OPTIONS") {
          // A CORS preflight, or a plain question about the methods.
          corsHeaders = { ...cors.preflightHeaders(req, allow), "x-request-id": requestId };
          response = { status: 204, headers: { allow: allow.join(", ") } };
        } else {
          throw new RestProblem(405, "method_not_allowed", `${method} is not allowed on ${path}`, {
            allow: allow.join(", "),
          });
        }
      } else {
        const { route, params } = match;
        access.route = route.path;
        let organizationId = "";
        let context: RequestContext | null = null;
        let authHeaders: HeaderValues = {};
        if (route.access !== null) {
          const auth = await authenticate(deps.verifier, req, route.access, clientIp);
          if (!auth.ok) {
            await writeResponse(req, res, auth.response, corsHeaders);
            return;
          }
          organizationId = auth.organizationId;
          access.organizationId = organizationId;
          if (auth.actor.type === "api_key") access.keyId = auth.actor.id;
          context = { actor: auth.actor, requestId, clientIp };
          authHeaders = auth.headers;
        }
        const query = readQuery(queryString, route.query);
        response = await route.handle({ apiKeys: deps.apiKeys, audit: deps.audit, req, params, query, organizationId, context });
        response = { ...response, headers: { ...authHeaders, ...response.headers } };
      }
    } catch (error) {
      response = problemResponse(toRestProblem(error, deps.logger));
    }
    await writeResponse(req, res, response, corsHeaders);
  };
}

/** The query string's parameters; unknown or repeated ones are a 400. */
function readQuery(queryString: string, known: readonly string[]): QueryParams {
  const query = new Map<string, string>();
  if (queryString === "") return query;
  for (const [name, value] of new URLSearchParams(queryString)) {
    if (!known.includes(name)) {
      const expected = known.length > 0 ? `known: ${known.join(", ")}` : "this route takes none";
      throw badRequest("query", `unknown parameter ${JSON.stringify(name.slice(0, 64))} (${expected})`);
    }
    if (query.has(name)) throw badRequest(name, "is given more than once");
    query.set(name, value);
  }
  return query;
}
