/**
 * The Node request handler of the RPC port: connect-node's adapter, plus one
 * correction. connect-es reports a request message it cannot decode (invalid
 * UTF-8 in a string, a truncated or garbled frame) as INTERNAL ("parse
 * binary: ...", "received compressed envelope, but ..."), which a caller
 * reads as our fault. It is the caller's: this
 * handler reports it as INVALID_ARGUMENT, on all three protocols. Every call
 * gets a request id (the caller's sane X-Request-Id, else a new one),
 * answered in X-Request-Id and recorded in audit events.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { Code, createConnectRouter } from "@connectrpc/connect";
import type { ConnectRouter, ConnectRouterOptions } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { clientIpFrom, requestIdFrom } from "../domain/request-context.js";
import { refuseUnauthenticated } from "./early-refusal.js";
import { callContextValues } from "./request-context.js";

export interface RpcHandlerOptions extends ConnectRouterOptions {
  routes: (router: ConnectRouter) => void;
  /**
   * Whether a call to `path` with these headers may go on to have its body
   * read; false answers UNAUTHENTICATED at once (the service-token check,
   * before any work). Absent: every call goes on.
   */
  admit?: (path: string, headers: IncomingHttpHeaders) => boolean;
  /** Told of each call refused by `admit`, with its request id (access log, metrics). */
  onRefused?: (path: string, requestId: string) => void;
  /** Told of a handler that failed outside any RPC (a broken connection, mostly). */
  onError: (error: unknown) => void;
}

/**
 * How connect-es words the INTERNAL errors that are a caller's malformed
 * request: a message it cannot decode, and a frame flagged compressed
 * without a declared encoding.
 */
const CALLER_FAULTS = ["parse binary", "received compressed envelope"];
const isCallerFault = (message: string | undefined) => CALLER_FAULTS.some((prefix) => message?.startsWith(prefix));

export function rpcNodeHandler(options: RpcHandlerOptions) {
  const router = createConnectRouter({ acceptCompression: [compressionGzip, compressionBrotli], ...options });
  options.routes(router);
  const handlers = new Map(router.handlers.map((h) => [h.requestPath, h]));

  return (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
    const handler = handlers.get((req.url ?? "").split("?", 2)[0] ?? "");
    if (!handler) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const requestId = requestIdFrom(req.headers["x-request-id"]);
    if (options.admit && !options.admit(handler.requestPath, req.headers)) {
      try {
        refuseUnauthenticated(req, res, { "x-request-id": requestId });
      } catch (error) {
        // The stream went away while we answered: nothing to tell anyone.
        options.onError(error);
      }
      options.onRefused?.(handler.requestPath, requestId);
      return;
    }
    res.setHeader("x-request-id", requestId);
    const contextValues = callContextValues(requestId, clientIpFrom(req.socket.remoteAddress));
    const uReq = universalRequestFromNodeRequest(req, res, undefined, contextValues);
    handler(uReq)
      .then(reclassifyParseErrors)
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch(options.onError);
  };
}

async function reclassifyParseErrors(uRes: UniversalServerResponse): Promise<UniversalServerResponse> {
  const type = uRes.header?.get("content-type") ?? "";
  if (uRes.status === 500 && type.startsWith("application/json") && uRes.body) {
    return rewriteConnectError(uRes, uRes.body);
  }
  if (type.startsWith("application/grpc-web") && uRes.body) {
    return { ...uRes, body: rewriteGrpcWebTrailer(uRes.body) };
  }
  if (type.startsWith("application/grpc") && uRes.body) {
    return { ...uRes, body: fixTrailerAfter(uRes.body, uRes) };
  }
  return uRes;
}

/** Connect unary: a small JSON error body `{code, message}`. */
async function rewriteConnectError(
  uRes: UniversalServerResponse,
  body: AsyncIterable<Uint8Array>,
): Promise<UniversalServerResponse> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  let bytes = Buffer.concat(chunks);
  let status = uRes.status;
  try {
    const error = JSON.parse(bytes.toString("utf8")) as { code?: string; message?: string };
    if (error.code === "internal" && isCallerFault(error.message)) {
      bytes = Buffer.from(JSON.stringify({ code: "invalid_argument", message: error.message }));
      status = 400;
      uRes.header?.set("content-length", String(bytes.length));
    }
  } catch {
    // not a Connect error body: pass it through unchanged
  }
  return { ...uRes, status, body: (async function* () { yield bytes; })() };
}

/** gRPC: the status travels in HTTP trailers, set once the body is done. */
async function* fixTrailerAfter(
  body: AsyncIterable<Uint8Array>,
  uRes: UniversalServerResponse,
): AsyncIterable<Uint8Array> {
  yield* body;
  for (const headers of [uRes.trailer, uRes.header]) {
    if (
      headers?.get("grpc-status") === String(Code.Internal) &&
      isCallerFault(decodeURIComponent(headers.get("grpc-message") ?? ""))
    ) {
      headers.set("grpc-status", String(Code.InvalidArgument));
    }
  }
}

/** gRPC-Web: the status travels in a final body frame flagged 0x80. */
async function* rewriteGrpcWebTrailer(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    if (chunk.length >= 5 && (chunk[0] ?? 0) & 0x80) {
      const text = Buffer.from(chunk.subarray(5)).toString("utf8");
      if (/grpc-status: ?13\r\n/.test(text) && CALLER_FAULTS.some((prefix) => decodeURIComponent(text).includes(prefix))) {
        const fixed = Buffer.from(text.replace(/grpc-status: ?13\r\n/, `grpc-status: ${Code.InvalidArgument}\r\n`));
        const frame = Buffer.alloc(5 + fixed.length);
        frame[0] = chunk[0] ?? 0x80;
        frame.writeUInt32BE(fixed.length, 1);
        fixed.copy(frame, 5);
        yield frame;
        continue;
      }
    }
    yield chunk;
  }
}
