/**
 * The HTTP/1.1 port: the dashboard's REST shim under /v1, health, readiness
 * and metrics. The RPC services are never served on this port.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { requestIdFrom } from "../domain/request-context.js";
import { accessLog } from "../edge/access-log.js";
import type { AccessEntry } from "../edge/access-log.js";
import type { Metrics } from "../metrics.js";
import { RestProblem, toRestProblem } from "./problem.js";
import { jsonResponse, problemResponse, writeResponse } from "./response.js";
import type { RestResponse } from "./response.js";
import { restApp } from "./rest-app.js";
import type { RestDeps } from "./rest-app.js";

/** Whether each dependency answers, and which of them this replica cannot work without. */
export interface Readiness {
  checks: Record<string, boolean>;
  /** Checks that must pass for /readyz to answer 200; the others only degrade the service. */
  required: readonly string[];
}

export interface HttpDeps extends Omit<RestDeps, "logger"> {
  readiness: () => Promise<Readiness>;
  logger: Logger;
  /** Its registry is served as Prometheus text at GET /metrics; requests are observed in it. */
  metrics: Metrics;
}

const OPERATIONAL = new Set(["/healthz", "/readyz", "/metrics"]);

export function httpApp(deps: HttpDeps) {
  const rest = restApp(deps);
  const logAccess = accessLog(deps.logger, deps.metrics);
  const registry = deps.metrics.registry;

  async function operational(path: string): Promise<RestResponse> {
    if (path === "/healthz") return jsonResponse(200, { status: "ok" });
    if (path === "/readyz") {
      const { checks, required } = await deps.readiness();
      const ready = required.every((name) => checks[name] === true);
      const degraded = Object.keys(checks).filter((name) => !checks[name] && !required.includes(name));
      const status = !ready ? "unavailable" : degraded.length > 0 ? "degraded" : "ready";
      return jsonResponse(ready ? 200 : 503, { status, checks, ...(degraded.length > 0 ? { degraded } : {}) });
    }
    return { status: 200, body: { text: await registry.metrics(), type: registry.contentType } };
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startedAt = performance.now();
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const access: AccessEntry = {
      requestId: requestIdFrom(req.headers["x-request-id"]),
      transport: "rest",
      method: req.method ?? "GET",
      route: OPERATIONAL.has(path) ? path : "unmatched",
      status: 0,
    };
    res.once("close", () => logAccess({ ...access, status: res.statusCode }, startedAt));
    if (path === "/v1" || path.startsWith("/v1/")) {
      await rest(req, res, access);
      return;
    }
    let response: RestResponse;
    try {
      if (!OPERATIONAL.has(path)) {
        throw new RestProblem(404, "not_found", `No route for ${req.method ?? "GET"} ${path}`);
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        throw new RestProblem(405, "method_not_allowed", `${path} answers GET and HEAD only`, { allow: "GET, HEAD" });
      }
      response = await operational(path);
    } catch (error) {
      response = problemResponse(toRestProblem(error, deps.logger));
    }
    await writeResponse(req, res, response, { "x-request-id": access.requestId });
  };
}
