/**
 * Builds the two listeners from their dependencies: the internal RPC port
 * (h2c and HTTP/1.1 on one port: gRPC, Connect and gRPC-Web; Envoy's
 * ext_authz and HTTP forward-auth for gateways, src/gateway/) and the
 * HTTP/1.1 port. Tests start it on port 0.
 */
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo, Server } from "node:net";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { TrustedProxies } from "./edge/client-ip.js";
import { gatewayDoors } from "./gateway/doors.js";
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
  /** Proxies whose X-Forwarded-For forward-auth believes (none: the socket peer is the client). */
  trustedProxies: TrustedProxies;
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
  const doors = gatewayDoors(deps);
  if (deps.internalTokens.length > 0) interceptors.unshift(doors.exceptExtAuthz(internalAuthInterceptor(deps.internalTokens)));
  interceptors.unshift(accessInterceptor(accessLog(deps.logger, deps.metrics)));

  const health = new HealthStatus(AUTHN_SERVICES.map((s) => s.typeName));
  const rpcServer = http2.createServer(
    { maxSessionMemory: 64, settings: { maxHeaderListSize: 64 * 1024 } },
    doors.route(rpcNodeHandler({
      routes: doors.withExtAuthz(rpcRoutes(deps, health)),
      interceptors,
      readMaxBytes: READ_MAX_BYTES,
      // Unknown fields in JSON are a client's mistake worth hearing about.
      jsonOptions: { ignoreUnknownFields: false },
      onError: (error) => deps.logger.debug({ err: error }, "rpc stream ended abnormally"),
    })),
  );
  // HTTP/2 connections go to rpcServer, HTTP/1.1 ones to an HTTP/1.1 server with the same handler.
  const internal = doors.listener(rpcServer);
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
    listen(internal.server, options.host, options.rpcPort),
    listen(httpServer, options.host, options.httpPort),
  ]);
  const rpcPort = (internal.server.address() as AddressInfo).port;
  const httpPort = (httpServer.address() as AddressInfo).port;
  const urlHost = options.host.includes(":") ? `[${options.host}]` : options.host;

  return {
    rpcPort,
    httpPort,
    rpcUrl: `http://${urlHost}:${rpcPort}`,
    httpUrl: `http://${urlHost}:${httpPort}`,
    async close(graceMs = 10_000) {
      const closed = Promise.all([
        new Promise<void>((resolve) => internal.server.close(() => resolve())),
        new Promise<void>((resolve) => httpServer.close(() => resolve())),
      ]);
      // GOAWAY: clients stop opening streams; open ones finish.
      health.shutdown(); // grpc.health.v1: NOT_SERVING; Watch calls end
      for (const session of sessions) session.close();
      httpServer.closeIdleConnections();
      internal.http1.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const session of sessions) session.destroy();
        httpServer.closeAllConnections();
        internal.http1.closeAllConnections();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
