/**
 * The Node request handler of the RPC port: connect-node's adapter, plus one
 * correction. connect-es reports a request message it cannot decode (invalid
 * UTF-8 in a string, a truncated or garbled frame) as INTERNAL ("parse
 * binary: ..."), which a caller reads as our fault. It is the caller's: this
 * handler reports it as INVALID_ARGUMENT, on all three protocols. (A frame
 * flagged compressed without a declared encoding stays INTERNAL: gRPC's
 * compression spec prescribes it, and the Connect conformance suite checks it.) Every call
 * gets a request id (the caller's sane X-Request-Id, else a new one),
 * answered in X-Request-Id and recorded in audit events.
 */
import { once } from "node:events";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse, OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { Code, createConnectRouter } from "@connectrpc/connect";
import type { ConnectRouter, ConnectRouterOptions, ContextValues } from "@connectrpc/connect";
import type { UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { clientIpFrom, requestIdFrom } from "../domain/request-context.js";
import { webHeaders } from "./direct-lane.js";
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

/** How connect-es words the INTERNAL errors that are a caller's malformed request: a message it cannot decode. */
const CALLER_FAULTS = ["parse binary"];
const isCallerFault = (message: string | undefined) => CALLER_FAULTS.some((prefix) => message?.startsWith(prefix));

/** What the RPC port's compatibility handler is, plus `delegate` for the direct lane. */
export interface RpcNodeHandler {
  (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void;
  /**
   * Serves a call the direct lane (src/rpc/direct-lane.ts) admitted, started
   * to read and handed back: `body` is what it read, the stream has the rest.
   */
  delegate(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: readonly Buffer[]): void;
}

/** The compressions the RPC port accepts, and answers in when asked. */
export const ACCEPT_COMPRESSION = [compressionGzip, compressionBrotli];

export function rpcNodeHandler(options: RpcHandlerOptions): RpcNodeHandler {
  const router = createConnectRouter({ acceptCompression: ACCEPT_COMPRESSION, ...options });
  options.routes(router);
  const handlers = new Map(router.handlers.map((h) => [h.requestPath, h]));

  const delegate = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: readonly Buffer[]): void => {
    const handler = handlers.get(String(headers[":path"]));
    const requestId = requestIdFrom(headers["x-request-id"]);
    if (!handler) {
      stream.respond({ ":status": 404 }, { endStream: true });
      return;
    }
    const contextValues = callContextValues(requestId, clientIpFrom(stream.session?.socket?.remoteAddress));
    handler(universalRequestFromStream(stream, headers, body, contextValues))
      .then(reclassifyParseErrors)
      .then((uRes) => writeUniversalResponse(stream, uRes, { "x-request-id": requestId }))
      .catch(options.onError);
  };

  const handle = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
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
  return Object.assign(handle, { delegate });
}

/** A universal request (connect-es's) for an HTTP/2 stream whose first bytes were already read. */
function universalRequestFromStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  read: readonly Buffer[],
  contextValues: ContextValues,
): UniversalServerRequest {
  const abort = new AbortController();
  stream.once("close", () => abort.abort());
  async function* body(): AsyncIterable<Uint8Array> {
    yield* read;
    if (!stream.readableEnded) yield* stream as AsyncIterable<Buffer>;
  }
  return {
    httpVersion: "2.0",
    method: String(headers[":method"]),
    url: new URL(headers[":path"] ?? "/", `http://${headers[":authority"] ?? "localhost"}`).toString(),
    header: webHeaders(headers),
    body: body(),
    signal: abort.signal,
    contextValues,
  };
}

/** Writes a universal response on an HTTP/2 stream: headers, body, then trailers when it has them. */
async function writeUniversalResponse(
  stream: ServerHttp2Stream,
  uRes: UniversalServerResponse,
  extraHeaders: Readonly<Record<string, string>>,
): Promise<void> {
  if (stream.destroyed || stream.closed) return;
  const headers: OutgoingHttpHeaders = { ":status": uRes.status, ...extraHeaders };
  uRes.header?.forEach((value, name) => void (headers[name] = value));
  const trailer = uRes.trailer;
  stream.respond(headers, { waitForTrailers: trailer !== undefined });
  if (trailer) {
    stream.once("wantTrailers", () => {
      const trailers: OutgoingHttpHeaders = {};
      trailer.forEach((value, name) => void (trailers[name] = value));
      stream.sendTrailers(trailers);
    });
  }
  for await (const chunk of uRes.body ?? []) {
    if (stream.destroyed) return;
    if (!stream.write(chunk)) await once(stream, "drain");
  }
  stream.end();
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
