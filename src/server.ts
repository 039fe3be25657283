/**
 * Builds the two listeners from their dependencies: the RPC port (h2c:
 * gRPC, Connect and gRPC-Web) and the HTTP/1.1 port. Tests start it on port 0.
 */
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { httpApp } from "./rest/http-app.js";
import { framingErrorResponse } from "./rest/problem.js";
import type { HttpDeps } from "./rest/http-app.js";
import { accessLog } from "./edge/access-log.js";
import { accessInterceptor } from "./rpc/access-interceptor.js";
import { errorMappingInterceptor } from "./rpc/error-mapping.js";
import { HealthStatus } from "./rpc/health-service.js";
import { internalAuthInterceptor } from "./rpc/internal-auth.js";
import { rpcNodeHandler } from "./rpc/node-handler.js";
import { AUTHN_SERVICES, rpcRoutes } from "./rpc/routes.js";
import type { RpcDeps } from "./rpc/routes.js";

export interface ServerDeps extends RpcDeps, HttpDeps {
  logger: Logger;
  /** Service tokens of the RPC port; empty: no token required. */
  internalTokens: readonly string[];
}

export interface ListenOptions {
  host: string;
  /** 0 picks a free port. */
  rpcPort: number;
  httpPort: number;
}

export interface RunningServer {
  rpcPort: number;
  httpPort: number;
  /** `http://host:port` of each listener. */
  rpcUrl: string;
  httpUrl: string;
  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

/** Largest RPC message accepted; Verify's own header limits are far below it. */
const READ_MAX_BYTES = 4 * 1024 * 1024;

export async function startServer(deps: ServerDeps, options: ListenOptions): Promise<RunningServer> {
  const interceptors: Interceptor[] = [errorMappingInterceptor(deps.logger)];
  if (deps.internalTokens.length > 0) interceptors.unshift(internalAuthInterceptor(deps.internalTokens));
  interceptors.unshift(accessInterceptor(accessLog(deps.logger, deps.metrics)));

  const health = new HealthStatus(AUTHN_SERVICES.map((s) => s.typeName));
  const rpcServer = http2.createServer(
    { maxSessionMemory: 64, settings: { maxHeaderListSize: 64 * 1024 } },
    rpcNodeHandler({
      routes: rpcRoutes(deps, health),
      interceptors,
      readMaxBytes: READ_MAX_BYTES,
      // Unknown fields in JSON are a client's mistake worth hearing about.
      jsonOptions: { ignoreUnknownFields: false },
      onError: (error) => deps.logger.debug({ err: error }, "rpc stream ended abnormally"),
    }),
  );
  const sessions = new Set<http2.ServerHttp2Session>();
  rpcServer.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  const handle = httpApp(deps);
  const httpServer = http.createServer(
    { maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 },
    (req, res) => void handle(req, res),
  );
  httpServer.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.writableEnded) socket.end(framingErrorResponse(error));
    else socket.destroy();
  });

  await Promise.all([
    listen(rpcServer, options.host, options.rpcPort),
    listen(httpServer, options.host, options.httpPort),
  ]);
  const rpcPort = (rpcServer.address() as AddressInfo).port;
  const httpPort = (httpServer.address() as AddressInfo).port;
  const urlHost = options.host.includes(":") ? `[${options.host}]` : options.host;

  return {
    rpcPort,
    httpPort,
    rpcUrl: `http://${urlHost}:${rpcPort}`,
    httpUrl: `http://${urlHost}:${httpPort}`,
    async close(graceMs = 10_000) {
      const closed = Promise.all([
        new Promise<void>((resolve) => rpcServer.close(() => resolve())),
        new Promise<void>((resolve) => httpServer.close(() => resolve())),
      ]);
      // GOAWAY: clients stop opening streams; open ones finish.
      health.shutdown(); // grpc.health.v1: NOT_SERVING; Watch calls end
      for (const session of sessions) session.close();
      httpServer.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const session of sessions) session.destroy();
        httpServer.closeAllConnections();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

function listen(server: http.Server | http2.Http2Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
