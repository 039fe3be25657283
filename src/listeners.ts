/**
 * The service's listeners, each built from its handler and the connection
 * limits: what accepts connections on a port, and how its connections are
 * let go of at shutdown. src/server.ts composes them and runs the shutdown
 * phases over the list.
 */
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { ConnectionLimits } from "./config.js";
import { http2ServerOptions, limitHttp1, limitHttp2 } from "./connection-limits.js";
import { framingErrorResponse } from "./rest/problem.js";

export type NodeHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface Listener {
  /** What listens on the port. */
  server: net.Server;
  /** Every HTTP/1.1 answer from now on says `Connection: close`. */
  drain(): void;
  /** Stop accepting (net.Server's close: connections about to send their request are not cut). */
  stopAccepting(): Promise<void>;
  /** GOAWAY on every HTTP/2 session: no new streams, open ones finish. */
  goAway(): void;
  /** Close connections with nothing in flight. */
  closeIdle(): void;
  /** Cut whatever is left. */
  closeAll(): void;
}

/** Marks the server's answers `Connection: close` once the returned function is called. */
function drainable(server: http.Server): () => void {
  let draining = false;
  server.prependListener("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
    if (draining) res.shouldKeepAlive = false;
  });
  return () => {
    draining = true;
  };
}

const stopAccepting = (server: net.Server) =>
  new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));

/** The HTTP/1.1 port (dashboard REST, health, metrics). */
export function http1Listener(handler: http.RequestListener, limits: ConnectionLimits): Listener {
  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, handler);
  limitHttp1(server, limits);
  // Requests Node's parser refuses get a problem+json too, then the connection closes.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => {
    if (socket.writable && !socket.writableEnded) socket.end(framingErrorResponse(error));
    else socket.destroy();
  });
  return {
    server,
    drain: drainable(server),
    stopAccepting: () => stopAccepting(server),
    goAway: () => {},
    closeIdle: () => server.closeIdleConnections(),
    closeAll: () => server.closeAllConnections(),
  };
}

/**
 * Takes an HTTP/2 stream, or passes it on with `compat` (to the request
 * handler, through Node's compatibility API).
 */
export type StreamLane = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, compat: () => void) => void;

/**
 * The internal port: h2c and HTTP/1.1 on one socket address (`dual` hands
 * each connection to one or the other and builds the HTTP/1.1 server, with
 * the same handler and its own framing-error answers). HTTP/2 streams go to
 * `lane` first when there is one.
 */
export function internalListener(
  handler: NodeHandler,
  limits: ConnectionLimits,
  dual: (h2: http2.Http2Server, handler: NodeHandler, firstBytesTimeoutMs: number) => { server: net.Server; http1: http.Server },
  lane?: StreamLane,
): Listener {
  // Never listens: turns the streams it is given into request/response pairs for `handler`.
  const compat = http2.createServer(http2ServerOptions(limits), handler);
  const h2 = http2.createServer(http2ServerOptions(limits));
  h2.on("stream", (stream, headers, flags, rawHeaders) => {
    const toCompat = () => void compat.emit("stream", stream, headers, flags, rawHeaders);
    if (lane) lane(stream, headers, toCompat);
    else toCompat();
  });
  const { server, http1 } = dual(h2, handler, Math.min(10_000, limits.idleTimeoutMs));
  limitHttp2(h2, limits);
  limitHttp1(http1, limits);
  server.maxConnections = limits.maxConnections;
  // Every TCP connection, by peer: an HTTP/2 session that ends while its peer
  // is still sending (a call refused before its body was read) can leave its
  // socket open, so the socket is closed with it.
  const sockets = new Map<string, net.Socket>();
  const peer = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }) => `${s.remoteAddress}:${s.remotePort}`;
  server.on("connection", (socket: net.Socket) => {
    const key = peer(socket);
    sockets.set(key, socket);
    socket.once("close", () => sockets.delete(key));
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    const key = peer(session.socket);
    session.once("close", () => {
      sessions.delete(session);
      sockets.get(key)?.destroy();
    });
  });
  return {
    server,
    drain: drainable(http1),
    stopAccepting: () => stopAccepting(server),
    goAway: () => {
      // Streams sent after it are refused (REFUSED_STREAM: not processed, safe to retry).
      for (const session of sessions) session.close();
    },
    closeIdle: () => http1.closeIdleConnections(),
    closeAll: () => {
      for (const session of sessions) session.destroy();
      for (const socket of sockets.values()) socket.destroy();
      http1.closeAllConnections();
    },
  };
}
