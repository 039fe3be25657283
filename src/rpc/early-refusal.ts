/**
 * UNAUTHENTICATED before the body is read. connect-es reads and parses a
 * unary request's whole message before any interceptor runs, so a caller
 * without a service token could make the server read up to 4 MiB per call.
 * The RPC port answers such a call from its headers alone, in the caller's
 * protocol, and tells the client to stop sending.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import http2 from "node:http2";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

export const SERVICE_TOKEN_REQUIRED = "a valid service token is required";

/** Answers `UNAUTHENTICATED` in gRPC, gRPC-Web or Connect, whichever the request speaks. */
export function refuseUnauthenticated(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  extraHeaders: Readonly<Record<string, string>>,
): void {
  // A client that already reset the stream (rapid reset) gets nothing.
  if ("stream" in req && req.stream && (req.stream.destroyed || req.stream.closed)) return;
  const type = String(req.headers["content-type"] ?? "");
  if (type.startsWith("application/grpc")) {
    // Trailers-only: the status in the one HEADERS frame, which ends the stream.
    const headers = {
      ...extraHeaders,
      "content-type": type.startsWith("application/grpc-web") ? "application/grpc-web+proto" : "application/grpc",
      "grpc-status": "16",
      "grpc-message": encodeURIComponent(SERVICE_TOKEN_REQUIRED),
    };
    if ("stream" in req && req.stream) {
      req.stream.respond({ ":status": 200, ...headers }, { endStream: true });
      req.stream.close(http2.constants.NGHTTP2_NO_ERROR); // stop sending the body
      return;
    }
    (res as ServerResponse).writeHead(200, { ...headers, connection: "close" });
    res.end();
    return;
  }
  const body = JSON.stringify({ code: "unauthenticated", message: SERVICE_TOKEN_REQUIRED });
  if ("stream" in req && req.stream) {
    req.stream.respond({ ":status": 401, ...extraHeaders, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
    req.stream.end(body, () => req.stream.close(http2.constants.NGHTTP2_NO_ERROR));
    return;
  }
  (res as ServerResponse).writeHead(401, { ...extraHeaders, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), connection: "close" });
  res.end(body);
}
