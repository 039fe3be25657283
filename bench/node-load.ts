/**
 * A Node load generator for what h2load does badly or not at all:
 *
 * - a different body on every request (the cache-miss runs: one distinct key
 *   per request, each sent once);
 * - smooth pacing at a fixed rate. h2load's --rps releases each client's
 *   requests in bursts about every 10 ms (seen in its per-request log), so at
 *   5,000 req/s some 50 requests land at once and p99 measures the burst, not
 *   the server. Here a 1 ms tick sends what is due, spread over the
 *   connections.
 *
 * Plain node:http2 with pre-encoded bodies keeps the client cheap. Latency is
 * measured from the stream's start to its end, as h2load does. Answers are
 * checked (HTTP 200, grpc-status 0, and the verdict allowed when decoded): a
 * denial or an error counts as failed.
 */
import http2 from "node:http2";
import { fromBinary } from "@bufbuild/protobuf";
import { VerifyResponseSchema } from "../gen/authn/v1/auth_pb.js";
import type { Protocol } from "./payloads.js";
import { VERIFY_PATH, WIRES } from "./payloads.js";
import { summarizeLatencies } from "./stats.js";
import type { LoadResult } from "./stats.js";

export interface NodeLoadRun {
  url: string;
  protocol: Protocol;
  bodies: readonly Buffer[];
  /** True: each body is sent once, then the run ends; false: the bodies are cycled. */
  once: boolean;
  /** Longest the run sends for (seconds); with `once`, it may end sooner. */
  durationS: number;
  /** Connections. */
  clients: number;
  /** Requests in flight per connection, at most. */
  streams: number;
  /** Total requests per second; absent: as fast as the in-flight limit allows. */
  rate?: number;
  /** Decode every n-th answer and check the verdict is allowed (1: every answer). */
  decodeEvery: number;
}

/** An answer slower than this is given up and counted as failed. */
const REQUEST_TIMEOUT_MS = 10_000;

export async function nodeLoad(run: NodeLoadRun): Promise<LoadResult> {
  const sessions = await Promise.all(Array.from({ length: run.clients }, () => connect(run.url)));
  const headers = { ":method": "POST", ":path": VERIFY_PATH, ...WIRES[run.protocol].headers };
  const latenciesUs: number[] = [];
  const inFlight = new Array<number>(run.clients).fill(0);
  let sent = 0;
  let completed = 0;
  let failed = 0;
  let nextClient = 0;
  let aborted = false;
  const started = performance.now();
  const deadline = started + run.durationS * 1000;

  try {
    await new Promise<void>((resolve) => {
      const exhausted = (): boolean => aborted || (run.once && sent >= run.bodies.length) || performance.now() >= deadline;
      const maybeDone = (): void => {
        if (completed === sent && exhausted()) resolve();
      };

      const send = (client: number): void => {
        const session = sessions[client];
        const body = run.bodies[sent % run.bodies.length];
        if (!session || !body) return;
        const decode = sent % run.decodeEvery === 0;
        if (session.destroyed || session.closed) {
          // The server went away: the run ends with what was sent (a failed
          // run, not a hang or a throw).
          aborted = true;
          return;
        }
        sent++;
        inFlight[client] = (inFlight[client] ?? 0) + 1;
        const sentAt = performance.now();
        const stream = session.request(headers);
        const chunks: Buffer[] = [];
        let status = 0;
        let grpcStatus: string | undefined;
        let ended = false;
        stream.setTimeout(REQUEST_TIMEOUT_MS, () => stream.close(http2.constants.NGHTTP2_CANCEL));
        stream.on("response", (h) => {
          status = Number(h[":status"]);
          grpcStatus = h["grpc-status"] as string | undefined;
        });
        stream.on("trailers", (t) => {
          grpcStatus = (t["grpc-status"] as string | undefined) ?? grpcStatus;
        });
        stream.on("data", (chunk: Buffer) => {
          if (decode) chunks.push(chunk);
        });
        stream.on("end", () => (ended = true));
        stream.on("error", () => {});
        // 'close' comes last, whatever happened (end, reset, timeout).
        stream.on("close", () => {
          latenciesUs.push((performance.now() - sentAt) * 1000);
          const ok = ended && status === 200 && (run.protocol !== "grpc" || grpcStatus === "0");
          if (!ok || (decode && !isAllowed(run.protocol, Buffer.concat(chunks)))) failed++;
          completed++;
          inFlight[client] = (inFlight[client] ?? 1) - 1;
          pump();
          maybeDone();
        });
        stream.end(body);
      };

      // Send what is due now, round-robin over connections with room.
      let timer: NodeJS.Timeout | undefined;
      const pump = (): void => {
        const due = run.rate === undefined ? Infinity : Math.floor(((performance.now() - started) / 1000) * run.rate);
        let idle = 0;
        while (sent < due && !exhausted() && idle < run.clients) {
          const client = nextClient;
          nextClient = (nextClient + 1) % run.clients;
          if ((inFlight[client] ?? 0) < run.streams) {
            send(client);
            idle = 0;
          } else {
            idle++;
          }
        }
        if (run.rate !== undefined && !exhausted() && timer === undefined) {
          timer = setTimeout(() => {
            timer = undefined;
            pump();
            maybeDone();
          }, 1);
        }
      };
      pump();
      maybeDone();
    });
  } finally {
    for (const session of sessions) session.close();
  }
  const elapsedS = (performance.now() - started) / 1000;
  return {
    ...summarizeLatencies(latenciesUs),
    reqPerSec: Math.round((completed / elapsedS) * 10) / 10,
    requests: completed,
    failed,
  };
}

function connect(url: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.once("connect", () => {
      session.off("error", reject);
      // A session that fails later fails its streams, which count as failed.
      session.on("error", () => {});
      resolve(session);
    });
    session.once("error", reject);
  });
}

function isAllowed(protocol: NodeLoadRun["protocol"], body: Buffer): boolean {
  try {
    const message = protocol === "grpc" ? body.subarray(5, 5 + body.readUInt32BE(1)) : body;
    return fromBinary(VerifyResponseSchema, message).allowed;
  } catch {
    return false;
  }
}
