/**
 * The gateways' doors of the internal port, beside the RPC services: HTTP
 * forward-auth (and nginx's problem replay) on both protocols, Envoy's
 * `Authorization/Check` among the RPC services, and the HTTP/1.1 server the
 * port hands non-HTTP/2 connections to. Built once by src/server.ts.
 */
import http from "node:http";
import type http2 from "node:http2";
import type { Duplex } from "node:stream";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import type { Verifier } from "../app/verify.js";
import { accessLog } from "../edge/access-log.js";
import type { TrustedProxies } from "../edge/client-ip.js";
import { isForwardAuthPath } from "../edge/original-request.js";
import { ServiceTokens } from "../edge/service-token.js";
import { VerificationEdge } from "../edge/verification-edge.js";
import { dualProtocolServer } from "../internal-port.js";
import type { Metrics } from "../metrics.js";
import { framingErrorResponse } from "../rest/problem.js";
import { checkCall, extAuthzService } from "./ext-authz.js";
import { forwardAuthHandler, PROBLEM_REPLAY_PATH, problemReplayHandler } from "./forward-auth.js";

export interface GatewayDeps {
  verifier: Verifier;
  logger: Logger;
  metrics: Pick<Metrics, "requestDuration">;
  /** Service tokens of the internal port; empty: none required (loopback development only). */
  internalTokens: readonly string[];
  /** Proxies whose X-Forwarded-For forward-auth believes (none: the socket peer is the client). */
  trustedProxies: TrustedProxies;
  /** Metadata keys allowed answers forward as `X-Keyward-Meta-<key>` (KEYWARD_FORWARD_METADATA). */
  forwardMetadata: readonly string[];
}

type Handler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export function gatewayDoors(deps: GatewayDeps) {
  const tokens = new ServiceTokens(deps.internalTokens);
  const edge = new VerificationEdge({ verifier: deps.verifier, logger: deps.logger, forwardMetadata: deps.forwardMetadata });
  const logAccess = accessLog(deps.logger, deps.metrics);
  const forwardAuth = forwardAuthHandler({ edge, tokens, trustedProxies: deps.trustedProxies, logAccess });
  const problemReplay = problemReplayHandler(tokens, logAccess);

  return {
    /** Envoy's Check, for the direct lane (src/rpc/direct-lane.ts). */
    check: checkCall(edge, tokens),

    /** The RPC services plus Envoy's Check. */
    withExtAuthz(routes: (router: ConnectRouter) => void) {
      return (router: ConnectRouter): void => {
        routes(router);
        router.service(Authorization, extAuthzService(edge, tokens));
      };
    },

    /** Check authenticates its caller itself (X-Keyward-Service-Token or Bearer), like forward-auth. */
    exceptExtAuthz(interceptor: Interceptor): Interceptor {
      return (next) => {
        const checked = interceptor(next);
        return (req) => (req.service.typeName === Authorization.typeName ? next(req) : checked(req));
      };
    },

    /** `/forward-auth[/*]` and the problem replay to the gateways' doors, anything else to `rpc`. */
    route(rpc: Handler): Handler {
      return (req, res) => {
        const url = req.url ?? "/";
        if (isForwardAuthPath(url)) {
          forwardAuth(req, res).catch((error: unknown) => {
            deps.logger.error({ err: error }, "forward-auth failed");
            if (res.headersSent) return;
            res.statusCode = 500;
            res.end();
          });
        } else if (url.split("?", 1)[0] === PROBLEM_REPLAY_PATH) {
          problemReplay(req, res);
        } else {
          rpc(req, res);
        }
      };
    },

    /**
     * The internal port's listener: h2c connections to `h2`, the rest to an
     * HTTP/1.1 server with the same handler (Connect unary, gRPC-Web and the
     * gateways' doors work over both).
     */
    listener(h2: http2.Http2Server, handler: Handler, firstBytesTimeoutMs?: number) {
      const http1 = http.createServer({ maxHeaderSize: 64 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 }, handler);
      http1.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
        if (socket.writable && !socket.writableEnded) socket.end(framingErrorResponse(error));
        else socket.destroy();
      });
      return { server: dualProtocolServer(h2, http1, firstBytesTimeoutMs), http1 };
    },
  };
}
