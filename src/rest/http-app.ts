/**
 * The HTTP/1.1 port: health and readiness here; the dashboard's REST shim
 * and metrics join it. The RPC services are never served on this port.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { restApp } from "./rest-app.js";
import type { RestDeps } from "./rest-app.js";

export interface HttpDeps extends Omit<RestDeps, "logger"> {
  /** Each dependency the service needs to answer, and whether it is reachable. */
  readiness: () => Promise<Record<string, boolean>>;
  logger: Logger;
  /** Served as Prometheus text at GET /metrics. */
  metrics: Registry;
}

function sendJson(res: ServerResponse, status: number, body: unknown, type = "application/json"): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function problem(res: ServerResponse, status: number, title: string, detail: string, code: string): void {
  sendJson(res, status, { type: "about:blank", title, status, detail, code }, "application/problem+json");
}

export function httpApp(deps: HttpDeps) {
  const rest = restApp(deps);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    try {
      if (path === "/v1" || path?.startsWith("/v1/")) {
        await rest(req, res);
        return;
      }
      if ((path === "/healthz" || path === "/readyz" || path === "/metrics") && req.method !== "GET" && req.method !== "HEAD") {
        res.setHeader("allow", "GET, HEAD");
        problem(res, 405, "Method Not Allowed", `${path} answers GET and HEAD only`, "method_not_allowed");
        return;
      }
      if (path === "/healthz") {
        sendJson(res, 200, { status: "ok" });
        return;
      }
      if (path === "/readyz") {
        const checks = await deps.readiness();
        const ready = Object.values(checks).every(Boolean);
        sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "unavailable", checks });
        return;
      }
      if (path === "/metrics") {
        const text = await deps.metrics.metrics();
        res.writeHead(200, { "content-type": deps.metrics.contentType, "content-length": Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      problem(res, 404, "Not Found", `No route for ${req.method ?? "GET"} ${path ?? "/"}`, "not_found");
    } catch (error) {
      deps.logger.error({ err: error }, "http handler failed");
      if (!res.headersSent) problem(res, 500, "Internal Server Error", "internal error", "internal");
      else res.destroy();
    }
  };
}
