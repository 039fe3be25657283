/**
 * The HTTP/1.1 port: the dashboard's REST shim under /v1, health, readiness
 * and metrics. The RPC services are never served on this port.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { RestProblem, toRestProblem } from "./problem.js";
import { jsonResponse, problemResponse, writeResponse } from "./response.js";
import type { RestResponse } from "./response.js";
import { restApp } from "./rest-app.js";
import type { RestDeps } from "./rest-app.js";

export interface HttpDeps extends Omit<RestDeps, "logger"> {
  /** Each dependency the service needs to answer, and whether it is reachable. */
  readiness: () => Promise<Record<string, boolean>>;
  logger: Logger;
  /** Served as Prometheus text at GET /metrics. */
  metrics: Registry;
}

const OPERATIONAL = new Set(["/healthz", "/readyz", "/metrics"]);

export function httpApp(deps: HttpDeps) {
  const rest = restApp(deps);

  async function operational(path: string): Promise<RestResponse> {
    if (path === "/healthz") return jsonResponse(200, { status: "ok" });
    if (path === "/readyz") {
      const checks = await deps.readiness();
      const ready = Object.values(checks).every(Boolean);
      return jsonResponse(ready ? 200 : 503, { status: ready ? "ready" : "unavailable", checks });
    }
    return { status: 200, body: { text: await deps.metrics.metrics(), type: deps.metrics.contentType } };
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/v1" || path.startsWith("/v1/")) {
      await rest(req, res);
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
    await writeResponse(req, res, response);
  };
}
