/**
 * The server: a list of listeners built from their handlers
 * (src/listeners.ts) — the internal RPC port (h2c and HTTP/1.1 on one port:
 * gRPC, Connect and gRPC-Web; Envoy's ext_authz and HTTP forward-auth for
 * gateways, src/gateway/) and the HTTP/1.1 port — and the shutdown phases
 * run over that list. Tests start it on port 0.
 */
import type http from "node:http";
import type { AddressInfo, Server } from "node:net";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { TrustedProxies } from "./edge/client-ip.js";
import { bearerToken, ServiceTokens } from "./edge/service-token.js";
import { gatewayDoors } from "./gateway/doors.js";
import type { ConnectionLimits } from "./config.js";
import { DEFAULT_LIMITS } from "./connection-limits.js";
import { http1Listener, internalListener } from "./listeners.js";
import type { StreamLane } from "./listeners.js";
import { httpApp } from "./rest/http-app.js";
import type { HttpDeps, Readiness } from "./rest/http-app.js";
import { accessLog } from "./edge/access-log.js";
import { accessInterceptor } from "./rpc/access-interceptor.js";
import { errorMappingInterceptor } from "./rpc/error-mapping.js";
import { HealthStatus } from "./rpc/health-service.js";
import { internalAuthInterceptor } from "./rpc/internal-auth.js";
import { ACCEPT_COMPRESSION, rpcNodeHandler } from "./rpc/node-handler.js";
import { rpcAccessEntry } from "./rpc/access-interceptor.js";
import { deadlineInterceptor } from "./rpc/deadline.js";
import { directLane, directMethod } from "./rpc/direct-lane.js";
import { refuseOnStream } from "./rpc/early-refusal.js";
import { toConnectError } from "./rpc/error-mapping.js";
import { verifyCall } from "./rpc/auth-service.js";
import { encodeCheckResponse } from "./rpc/check-response-binary.js";
import { decodeVerifyRequest } from "./rpc/verify-request-binary.js";
import { encodeVerifyResponse } from "./rpc/verify-response-binary.js";
import { decodeCheckRequest } from "./gateway/check-request-binary.js";
import { checkInputOf } from "./gateway/ext-authz.js";
import { decodeVerifyRequestJson, encodeVerifyResponseJson } from "./rpc/verify-json.js";
import { requestIdFrom } from "./domain/request-context.js";
import { AuthService } from "../gen/authn/v1/auth_pb.js";
import { Authorization } from "../gen/envoy/service/auth/v3/external_auth_pb.js";
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
  /**
   * false: every RPC through connect-node, none through the direct lane
   * (src/rpc/direct-lane.ts). Tests compare the two; default true.
   */
  directLane?: boolean;
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
/** Unknown fields in JSON are a client's mistake worth hearing about. */
const JSON_OPTIONS = { ignoreUnknownFields: false };
/** Answers at least this large are compressed when the caller accepts it (connect-es's default). */
const COMPRESS_MIN_BYTES = 1024;

export async function startServer(deps: ServerDeps, options: ListenOptions): Promise<RunningServer> {
  const interceptors: Interceptor[] = [errorMappingInterceptor(deps.logger)];
  const doors = gatewayDoors(deps);
  const tokens = new ServiceTokens(deps.internalTokens);
  if (tokens.required) interceptors.unshift(doors.exceptExtAuthz(internalAuthInterceptor(tokens)));
  const logAccess = accessLog(deps.logger, deps.metrics);
  // The hot methods: served by the direct lane when the call allows, else by connect-node.
  const hot = [
    directMethod(AuthService.method.verify, verifyCall(deps.verifier), {
      encode: encodeVerifyResponse,
      decode: decodeVerifyRequest,
      encodeJson: encodeVerifyResponseJson,
      decodeJson: decodeVerifyRequestJson,
    }),
    directMethod(Authorization.method.check, doors.check, { input: checkInputOf, encode: encodeCheckResponse, decode: decodeCheckRequest }),
  ];
  interceptors.unshift(accessInterceptor(logAccess), deadlineInterceptor(new Set(hot.map((m) => `${m.method.parent.typeName}/${m.method.name}`))));
  // keyward's own services need a service token: a call without one is
  // answered from its headers alone, before its body is read.
  const admit = (path: string, headers: http.IncomingHttpHeaders) =>
    !tokens.required || !path.startsWith("/authn.v1.") || tokens.check(bearerToken(headers.authorization)).ok;

  const health = new HealthStatus(AUTHN_SERVICES.map((s) => s.typeName));
  const limits = options.limits ?? DEFAULT_LIMITS;
  const onError = (error: unknown) => deps.logger.debug({ err: error }, "rpc stream ended abnormally");
  const rpc = rpcNodeHandler({
    routes: doors.withExtAuthz(rpcRoutes(deps, health)),
    interceptors,
    readMaxBytes: READ_MAX_BYTES,
    admit,
    onRefused: (path, requestId) =>
      logAccess({ requestId, transport: "rpc", method: "POST", route: path.slice(1), status: "unauthenticated" }, performance.now()),
    jsonOptions: JSON_OPTIONS,
    onError,
  });
  const rpcHandler = doors.route(rpc);
  const direct = directLane({
    methods: hot,
    readMaxBytes: READ_MAX_BYTES,
    jsonOptions: JSON_OPTIONS,
    acceptCompression: ACCEPT_COMPRESSION,
    compressMinBytes: COMPRESS_MIN_BYTES,
    requestId: (headers) => requestIdFrom(headers["x-request-id"]),
    admit,
    refuse: (stream, headers, requestId) => refuseOnStream(stream, headers, { "x-request-id": requestId }),
    toConnectError: (error) => toConnectError(error, deps.logger),
    onCall: (call) => logAccess(rpcAccessEntry(call.requestId, call.method, call.code, call.output), call.startedAt),
    onError,
  });
  const lane: StreamLane | undefined = options.directLane === false
    ? undefined
    : (stream, headers, compat) => direct(stream, headers, compat, (body) => rpc.delegate(stream, headers, body));

  // The drain phase: still serving, no longer ready (and HTTP/1.1 answers
  // say Connection: close, so no idle keep-alive connection is left for a
  // client to reuse at the moment the listeners close).
  let draining = false;
  const readiness = async (): Promise<Readiness> => {
    const ready = await deps.readiness();
    return draining ? { checks: { ...ready.checks, accepting: false }, required: [...ready.required, "accepting"] } : ready;
  };
  const handle = httpApp({ ...deps, readiness });
  const listeners = [
    { port: options.rpcPort, listener: internalListener(rpcHandler, limits, (h2, handler, firstBytesMs) => doors.listener(h2, handler, firstBytesMs), lane) },
    { port: options.httpPort, listener: http1Listener((req, res) => void handle(req, res), limits) },
  ];
  await Promise.all(listeners.map(({ port, listener }) => listen(listener.server, options.host, port)));
  const [rpcPort = 0, httpPort = 0] = listeners.map(({ listener }) => (listener.server.address() as AddressInfo).port);
  const urlHost = options.host.includes(":") ? `[${options.host}]` : options.host;
  const all = listeners.map(({ listener }) => listener);

  return {
    rpcPort,
    httpPort,
    rpcUrl: `http://${urlHost}:${rpcPort}`,
    httpUrl: `http://${urlHost}:${httpPort}`,
    async close(graceMs = 10_000, drainMs = 0) {
      draining = true;
      for (const listener of all) listener.drain();
      health.shutdown(); // grpc.health.v1: NOT_SERVING; Watch calls end
      if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
      const closed = Promise.all(all.map((listener) => listener.stopAccepting()));
      for (const listener of all) listener.goAway();
      // Connections still idle a moment later will not send anything: close them.
      const idle = setTimeout(() => all.forEach((listener) => listener.closeIdle()), IDLE_AFTER_CLOSE_MS);
      const timer = setTimeout(() => all.forEach((listener) => listener.closeAll()), graceMs);
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
