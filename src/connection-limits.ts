/**
 * Bounds on what one client may hold on a listener, so no client — least of
 * all one without a service token — can starve the others: connections per
 * process, streams per HTTP/2 connection, idle connections, slow requests,
 * and HTTP/2 stream resets (the "rapid reset" attack).
 */
import type http from "node:http";
import http2 from "node:http2";
import type { ConnectionLimits } from "./config.js";

export const DEFAULT_LIMITS: ConnectionLimits = {
  maxConnections: 1_000,
  maxConcurrentStreams: 100,
  idleTimeoutMs: 60_000,
  requestTimeoutMs: 30_000,
};

/**
 * More stream resets than a burst of this many, refilled at this many per
 * second, and the connection is closed (GOAWAY): a client that cancels calls
 * faster than it could have meant them is an attacker.
 */
const STREAM_RESET_BURST = 200;
const STREAM_RESET_RATE = 50;

/** The options of an HTTP/2 server under `limits`. */
export function http2ServerOptions(limits: ConnectionLimits): http2.ServerOptions {
  return {
    // Per-session memory (MB) for nghttp2's buffers; past it new streams are refused.
    maxSessionMemory: 64,
    settings: { maxConcurrentStreams: limits.maxConcurrentStreams, maxHeaderListSize: 64 * 1024 },
    streamResetBurst: STREAM_RESET_BURST,
    streamResetRate: STREAM_RESET_RATE,
  };
}

/**
 * Applies the limits nghttp2's options do not cover: idle sessions (closed with GOAWAY, so clients reconnect), streams that take
 * too long, and sessions nghttp2 has started to refuse (ENHANCE_YOUR_CALM):
 * those are closed cleanly instead of refusing every call forever.
 */
export function limitHttp2(server: http2.Http2Server, limits: ConnectionLimits): void {
  server.on("session", (session) => {
    session.setTimeout(limits.idleTimeoutMs, () => {
      // Idle by HTTP/2's measure: no frame either way for the whole timeout.
      // GOAWAY first; a peer that never even sent the preface does not
      // answer it, so the socket is destroyed shortly after.
      session.close();
      setTimeout(() => session.destroy(), 1_000).unref();
    });
    const streams = streamDeadlines(limits.requestTimeoutMs);
    session.on("stream", (stream) => {
      streams.opened(stream);
      // "close" comes once: a plain listener spares once()'s wrapper per stream.
      stream.on("close", () => {
        streams.closed(stream);
        if (stream.rstCode === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM && !session.closed) session.close();
      });
    });
    session.once("close", () => streams.stop());
    session.on("error", () => session.destroy());
  });
}

/**
 * Cancels (RST_STREAM CANCEL) each stream of a session still open
 * `timeoutMs` after it began, as HTTP/1.1's requestTimeout bounds a request.
 * One timer per session, armed for its oldest stream: a timer per stream
 * (Node's `stream.setTimeout`) is refreshed on every frame and kept with the
 * stream until V8's next full collection — measured at ~8% of a Verify's cost.
 */
function streamDeadlines(timeoutMs: number) {
  /** Open streams and when each began, oldest first (a Map keeps insertion order). */
  const open = new Map<http2.ServerHttp2Stream, number>();
  let timer: NodeJS.Timeout | undefined;
  const arm = (delayMs: number): void => {
    timer = setTimeout(sweep, delayMs);
    timer.unref();
  };
  const sweep = (): void => {
    timer = undefined;
    const now = performance.now();
    for (const [stream, began] of open) {
      if (began + timeoutMs > now) return arm(Math.ceil(began + timeoutMs - now));
      open.delete(stream);
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }
  };
  return {
    opened(stream: http2.ServerHttp2Stream): void {
      open.set(stream, performance.now());
      if (timer === undefined) arm(timeoutMs);
    },
    closed(stream: http2.ServerHttp2Stream): void {
      open.delete(stream);
    },
    stop(): void {
      clearTimeout(timer);
      open.clear();
    },
  };
}

/**
 * The same bounds on an HTTP/1.1 server. The connection cap belongs to the
 * listening server: set `maxConnections` on the one that accepts.
 */
export function limitHttp1(server: http.Server, limits: ConnectionLimits): void {
  server.maxConnections = limits.maxConnections;
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = Math.min(10_000, limits.requestTimeoutMs);
  // Keep-alive connections idle between requests; short, as Node's default.
  server.keepAliveTimeout = Math.min(5_000, limits.idleTimeoutMs);
  // A connection that never sends a request is idle too.
  server.timeout = limits.idleTimeoutMs;
}
