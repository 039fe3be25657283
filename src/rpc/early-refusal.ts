/**
 * UNAUTHENTICATED before the body is read. connect-es reads and parses a
 * unary request's whole message before any interceptor runs, so a caller
 * without a service token could make the server read up to 4 MiB per call.
 * The RPC port answers such a call from its headers alone, in the caller's
 * protocol, and tells the client to stop sending.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import http2 from "node:http2";
import type { Http2ServerRequest, Http2ServerResponse, ServerHttp2Stream } from "node:http2";

export const SERVICE_TOKEN_REQUIRED = "a valid service token is required";

/** Answers `UNAUTHENTICATED` in gRPC, gRPC-Web or Connect, whichever the request speaks. */
export function refuseUnauthenticated(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  extraHeaders: Readonly<Record<string, string>>,
): void {
  if ("stream" in req && req.stream) {
    refuseOnStream(req.stream, req.headers, extraHeaders);
    return;
  }
  const type = String(req.headers["content-type"] ?? "");
  if (type.startsWith("application/grpc")) {
    (res as ServerResponse).writeHead(200, { ...extraHeaders, ...grpcRefusal(type), connection: "close" });
    res.end();
    return;
  }
  (res as ServerResponse).writeHead(401, { ...extraHeaders, ...CONNECT_REFUSAL, connection: "close" });
  res.end(CONNECT_REFUSAL_BODY);
}

/** The same answer on an HTTP/2 stream. */
export function refuseOnStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  extraHeaders: Readonly<Record<string, string>>,
): void {
  // A client that already reset the stream (rapid reset) gets nothing.
  if (stream.destroyed || stream.closed) return;
  const type = String(headers["content-type"] ?? "");
  if (type.startsWith("application/grpc")) {
    // Trailers-only: the status in the one HEADERS frame, which ends the stream.
    stream.respond({ ":status": 200, ...extraHeaders, ...grpcRefusal(type) }, { endStream: true });
    stream.close(http2.constants.NGHTTP2_NO_ERROR); // stop sending the body
    return;
  }
  stream.respond({ ":status": 401, ...extraHeaders, ...CONNECT_REFUSAL });
  stream.end(CONNECT_REFUSAL_BODY, () => stream.close(http2.constants.NGHTTP2_NO_ERROR));
}

const grpcRefusal = (type: string) => ({
  "content-type": type.startsWith("application/grpc-web") ? "application/grpc-web+proto" : "application/grpc",
  "grpc-status": "16",
  "grpc-message": encodeURIComponent(SERVICE_TOKEN_REQUIRED),
});

const CONNECT_REFUSAL_BODY = JSON.stringify({ code: "unauthenticated", message: SERVICE_TOKEN_REQUIRED });
const CONNECT_REFUSAL = {
  "content-type": "application/json",
  "content-length": String(Buffer.byteLength(CONNECT_REFUSAL_BODY)),
};
