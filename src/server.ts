/**
 * Builds the two listeners from their dependencies: the internal RPC port
 * (h2c and HTTP/1.1 on one port: gRPC, Connect and gRPC-Web; Envoy's
 * ext_authz and HTTP forward-auth for gateways, src/gateway/) and the
 * HTTP/1.1 port. Tests start it on port 0.
 */
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { AddressInfo, Server } from "node:net";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { TrustedProxies } from "./edge/client-ip.js";
import { bearerToken, ServiceTokens } from "./edge/service-token.js";
import { gatewayDoors } from "./gateway/doors.js";
import type { ConnectionLimits } from "./config.js";
import { DEFAULT_LIMITS, http2ServerOptions, limitHttp1, limitHttp2 } from "./connection-limits.js";
import { httpApp } from "./rest/http-app.js";
import { framingErrorResponse } from "./rest/problem.js";
import type { HttpDeps, Readiness } from "./rest/http-app.js";
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
  /** Metadata keys the gateway doors forward as `X-Keyward-Meta-<key>`. */
  forwardMetadata: readonly string[];
}

export interface ListenOptions {
  host: string;
  /** Connection, stream and time bounds of both listeners; default DEFAULT_LIMITS. */
  limits?: ConnectionLimits;
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
  /**
   * Drains, then stops: for `drainMs` it keeps serving while /readyz and
   * grpc.health say it is going away (load balancers take it out); then it
   * stops accepting, sends GOAWAY and `Connection: close`, lets in-flight
   * calls finish for up to `graceMs`, and cuts the rest.
   */
  close(graceMs?: number, drainMs?: number): Promise<void>;
}

/** After the listeners close, how long a connection that sent nothing yet may still send its request. */
const IDLE_AFTER_CLOSE_MS = 250;

/** Largest RPC message accepted; Verify's own header limits are far below it. */
const READ_MAX_BYTES = 4 * 1024 * 1024;

export async function startServer(deps: ServerDeps, options: ListenOptions): Promise<RunningServer> {
  const interceptors: Interceptor[] = [errorMappingInterceptor(deps.logger)];
  const doors = gatewayDoors(deps);
  const tokens = new ServiceTokens(deps.internalTokens);
  if (tokens.required) interceptors.unshift(doors.exceptExtAuthz(internalAuthInterceptor(tokens)));
  const logAccess = accessLog(deps.logger, deps.metrics);
  interceptors.unshift(accessInterceptor(logAccess));
  // keyward's own services need a service token: a call without one is
  // answered from its headers alone, before its body is read.
  const admit = (path: string, headers: http.IncomingHttpHeaders) =>
    !tokens.required || !path.startsWith("/authn.v1.") || tokens.check(bearerToken(headers.authorization)).ok;

  const health = new HealthStatus(AUTHN_SERVICES.map((s) => s.typeName));
  const limits = options.limits ?? DEFAULT_LIMITS;
  const rpcServer = http2.createServer(
    http2ServerOptions(limits),
    doors.route(rpcNodeHandler({
      routes: doors.withExtAuthz(rpcRoutes(deps, health)),
      interceptors,
      readMaxBytes: READ_MAX_BYTES,
      admit,
      onRefused: (path, requestId) =>
        logAccess({ requestId, transport: "rpc", method: "POST", route: path.slice(1), status: "unauthenticated" }, performance.now()),
      // Unknown fields in JSON are a client's mistake worth hearing about.
      jsonOptions: { ignoreUnknownFields: false },
      onError: (error) => deps.logger.debug({ err: error }, "rpc stream ended abnormally"),
    })),
  );
  // HTTP/2 connections go to rpcServer, HTTP/1.1 ones to an HTTP/1.1 server with the same handler.
  const internal = doors.listener(rpcServer, Math.min(10_000, limits.idleTimeoutMs));
  limitHttp2(rpcServer, limits);
  limitHttp1(internal.http1, limits);
  internal.server.maxConnections = limits.maxConnections;
  // Every TCP connection of the internal port, by peer: an HTTP/2 session
  // that ends while its peer is still sending (a call refused before its
  // body was read) can leave its socket open, so the socket is closed with it.
  const sockets = new Map<string, net.Socket>();
  const peer = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }) => `${s.remoteAddress}:${s.remotePort}`;
  internal.server.on("connection", (socket: net.Socket) => {
    const key = peer(socket);
    sockets.set(key, socket);
    socket.once("close", () => sockets.delete(key));
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  rpcServer.on("session", (session) => {
    sessions.add(session);
    const key = peer(session.socket);
    session.once("close", () => {
      sessions.delete(session);
      sockets.get(key)?.destroy();
    });
  });

  // The drain phase: still serving, no longer ready, and every HTTP/1.1
  // answer says Connection: close, so no idle keep-alive connection is left
  // for a client to reuse at the moment the listener closes.
  let draining = false;
  const readiness = async (): Promise<Readiness> => {
    const ready = await deps.readiness();
    return draining ? { checks: { ...ready.checks, accepting: false }, required: [...ready.required, "accepting"] } : ready;
  };
  const handle = httpApp({ ...deps, readiness });
  const httpServer = http.createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => void handle(req, res));
  limitHttp1(httpServer, limits);
  for (const server of [httpServer, internal.http1]) {
    server.prependListener("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
      if (draining) res.shouldKeepAlive = false;
    });
  }
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
    async close(graceMs = 10_000, drainMs = 0) {
      draining = true;
      health.shutdown(); // grpc.health.v1: NOT_SERVING; Watch calls end
      if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
      // Stop accepting. net.Server's own close: http.Server's would also cut
      // connections that are open but have not sent their request yet, which
      // a client may be writing to at this very moment.
      const closed = Promise.all([
        new Promise<void>((resolve) => internal.server.close(() => resolve())),
        new Promise<void>((resolve) => net.Server.prototype.close.call(httpServer, () => resolve())),
      ]);
      // GOAWAY: clients stop opening streams; open ones finish. Streams sent
      // after it are refused (REFUSED_STREAM: not processed, safe to retry).
      for (const session of sessions) session.close();
      // Connections still idle a moment later will not send anything: close them.
      const idle = setTimeout(() => {
        httpServer.closeIdleConnections();
        internal.http1.closeIdleConnections();
      }, IDLE_AFTER_CLOSE_MS);
      const timer = setTimeout(() => {
        for (const session of sessions) session.destroy();
        for (const socket of sockets.values()) socket.destroy();
        httpServer.closeAllConnections();
        internal.http1.closeAllConnections();
      }, graceMs);
      await closed;
      clearTimeout(idle);
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
