/**
 * The HTTP/1.1 port: health and readiness here; the dashboard's REST shim
 * and metrics join it. The RPC services are never served on this port.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";

export interface HttpDeps {
  /** Each dependency the service needs to answer, and whether it is reachable. */
  readiness: () => Promise<Record<string, boolean>>;
  logger: Logger;
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
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    try {
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
      problem(res, 404, "Not Found", `No route for ${req.method ?? "GET"} ${path ?? "/"}`, "not_found");
    } catch (error) {
      deps.logger.error({ err: error }, "http handler failed");
      if (!res.headersSent) problem(res, 500, "Internal Server Error", "internal error", "internal");
      else res.destroy();
    }
  };
}
