/**
 * The internal port speaks HTTP/2 without TLS (h2c, prior knowledge) and
 * HTTP/1.1 on the same socket address: each new connection is read until its
 * first bytes either are the HTTP/2 connection preface or cannot be, then is
 * handed to the HTTP/2 or the HTTP/1.1 server with those bytes put back.
 */
import type http from "node:http";
import type http2 from "node:http2";
import net from "node:net";

/** RFC 9113 §3.4: what every HTTP/2 client sends first. */
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** How long a new connection may take to show which protocol it speaks, unless told shorter. */
const FIRST_BYTES_TIMEOUT_MS = 10_000;

/** A listener that hands each connection to `h2` or `http1`; neither of them listens itself. */
export function dualProtocolServer(
  h2: http2.Http2Server,
  http1: http.Server,
  firstBytesTimeoutMs = FIRST_BYTES_TIMEOUT_MS,
): net.Server {
  return net.createServer((socket) => {
    let received = Buffer.alloc(0);
    socket.setTimeout(firstBytesTimeoutMs, () => socket.destroy());
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const n = Math.min(received.length, PREFACE.length);
      const isPreface = received.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isPreface && n < PREFACE.length) return; // too few bytes to tell yet
      socket.off("data", onData);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(received);
      if (isPreface) {
        h2.emit("connection", socket);
      } else {
        http1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
    socket.on("error", () => socket.destroy());
  });
}
