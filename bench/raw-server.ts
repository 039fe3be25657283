/**
 * Baseline (b): node:http2 alone. Every stream's request body is read and
 * dropped, and a fixed response is written straight on the stream (the core
 * API, no compatibility layer): for gRPC the length-prefixed message and the
 * `grpc-status: 0` trailer, for Connect the bare message. The bytes are a real
 * verdict's (BENCH_RESPONSE, base64), so every server answers the same size.
 * What is left is the floor Node's HTTP/2 sets.
 */
import http2 from "node:http2";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { exitWithParent, reportReady } from "./processes.js";
import { monitorGc } from "./resources.js";

monitorGc();

const message = Buffer.from(process.env.BENCH_RESPONSE ?? "", "base64");
/** The same verdict as Connect JSON (BENCH_RESPONSE_JSON, base64), for application/json requests. */
const json = Buffer.from(process.env.BENCH_RESPONSE_JSON ?? "", "base64");
const frame = Buffer.alloc(5 + message.length);
frame.writeUInt32BE(message.length, 1);
message.copy(frame, 5);

function respond(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  const type = headers["content-type"] ?? "";
  stream.on("data", () => {});
  stream.on("error", () => {});
  stream.on("end", () => {
    if (type.startsWith("application/grpc")) {
      stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
      stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(frame);
    } else if (type.startsWith("application/json")) {
      stream.respond({ ":status": 200, "content-type": "application/json", "content-length": json.length });
      stream.end(json);
    } else {
      stream.respond({ ":status": 200, "content-type": "application/proto", "content-length": message.length });
      stream.end(message);
    }
  });
}

const server = http2.createServer({ maxSessionMemory: 64, settings: { maxHeaderListSize: 64 * 1024 } });
server.on("stream", respond);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  reportReady(typeof address === "object" && address ? address.port : 0);
});
exitWithParent(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      setImmediate(() => resolve());
    }),
);
