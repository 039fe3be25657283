/**
 * A bounded protocol fuzz of Verify on the RPC port: valid requests mutated
 * byte by byte, truncated, flagged compressed without an encoding, garbage
 * under a declared encoding, impossible lengths — over Connect (binary and
 * JSON), gRPC and gRPC-Web, with a fixed seed. A caller's malformed request
 * is the caller's error: never INTERNAL (gRPC 13, Connect "internal", HTTP 500),
 * never a hang.
 */
import http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { toBinary, create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyRequestSchema } from "../../gen/authn/v1/auth_pb.js";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";

const PATH = "/authn.v1.AuthService/Verify";
const CASES_PER_WIRE = 250;

let service: TestKeyward;
let session: http2.ClientHttp2Session;

beforeAll(async () => {
  service = await startTestKeyward({ embedded: true });
  session = http2.connect(service.keyward.server.rpcUrl);
});
afterAll(async () => {
  session.close();
  await service.stop();
});

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const message = toBinary(VerifyRequestSchema, create(VerifyRequestSchema, {
  headers: [{ name: "authorization", value: "Bearer sk_live_abc" }, { name: "x-request-id", value: "r1" }],
  method: "POST",
  path: "/v1/send",
  cost: 3,
}));
const json = Buffer.from(JSON.stringify({ headers: [{ name: "authorization", value: "Bearer sk_live_abc" }], method: "POST", path: "/v1/send", cost: 3 }));

function frame(flags: number, payload: Uint8Array, length = payload.length): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(length >>> 0, 1);
  return Buffer.concat([head, payload]);
}

interface Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

function send(headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": PATH, ...headers });
    const chunks: Buffer[] = [];
    let answer: Omit<Answer, "body" | "trailers"> = { status: 0, headers: {} };
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => (answer = { status: Number(h[":status"]), headers: h }));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve({ ...answer, trailers, body: Buffer.concat(chunks) }));
    stream.on("error", reject);
    stream.setTimeout(5_000, () => reject(new Error("no answer within 5 s")));
    stream.end(body);
  });
}

/** The RPC code of an answer, as a name; "internal" is what must never appear. */
function codeOf(answer: Answer, wire: string): string {
  if (wire.startsWith("connect")) {
    if (answer.status === 200) return "ok";
    try {
      return String((JSON.parse(answer.body.toString("utf8")) as { code?: string }).code);
    } catch {
      return `http ${answer.status}`;
    }
  }
  let status = answer.trailers["grpc-status"] ?? answer.headers["grpc-status"];
  if (status === undefined && wire === "grpc-web") {
    const text = answer.body.toString("latin1");
    status = /grpc-status: ?(\d+)/.exec(text)?.[1];
  }
  return status === "0" ? "ok" : status === "13" ? "internal" : `grpc ${String(status)}`;
}

/** One mutation of `bytes`: flipped bytes, a cut, an insertion, or a swapped length prefix. */
function mutate(bytes: Buffer, random: () => number): Buffer {
  const out = Buffer.from(bytes);
  switch (Math.floor(random() * 4)) {
    case 0:
      for (let i = 0; i < 1 + Math.floor(random() * 4); i++) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
      return out;
    case 1:
      return out.subarray(0, Math.floor(random() * out.length));
    case 2: {
      const at = Math.floor(random() * out.length);
      return Buffer.concat([out.subarray(0, at), Buffer.from([Math.floor(random() * 256), Math.floor(random() * 256)]), out.subarray(at)]);
    }
    default:
      if (out.length >= 5) out.writeUInt32BE(Math.floor(random() * 0xffffffff), 1);
      return out;
  }
}

const WIRES = {
  "connect-binary": { headers: { "content-type": "application/proto", "connect-protocol-version": "1" }, body: Buffer.from(message) },
  "connect-json": { headers: { "content-type": "application/json", "connect-protocol-version": "1" }, body: json },
  grpc: { headers: { "content-type": "application/grpc", te: "trailers" }, body: frame(0, message) },
  "grpc-web": { headers: { "content-type": "application/grpc-web+proto" }, body: frame(0, message) },
} as const;

describe("Verify under malformed requests", () => {
  it.each(Object.keys(WIRES) as (keyof typeof WIRES)[])("%s: never INTERNAL, never a hang", async (wire) => {
    const { headers, body } = WIRES[wire];
    const random = prng(0x6b657977 + wire.length);
    const seen = new Map<string, number>();
    const note = (code: string) => seen.set(code, (seen.get(code) ?? 0) + 1);

    // The valid request is answered.
    note(codeOf(await send(headers, body), wire));
    expect(seen.get("ok")).toBe(1);

    const special: Array<[http2.OutgoingHttpHeaders, Buffer]> = wire.startsWith("connect")
      ? [
          [{ ...headers, "content-encoding": "gzip" }, Buffer.from("not gzip at all")],
          [{ ...headers, "content-encoding": "gzip" }, gzipSync(Buffer.from("\xff\xfe garbage"))],
          [{ ...headers, "content-encoding": "zstd" }, body],
          [headers, Buffer.alloc(0)],
        ]
      : [
          [{ ...headers, "grpc-encoding": "gzip" }, frame(1, Buffer.from("not gzip"))],
          [{ ...headers, "grpc-encoding": "gzip" }, frame(1, gzipSync(Buffer.from([0xff, 0xff, 0xff])))],
          [{ ...headers, "grpc-encoding": "snappy" }, frame(1, message)],
          [headers, frame(0, message, 0xffffffff)],
          [headers, frame(0, message).subarray(0, 3)],
          [headers, Buffer.concat([frame(0, message), frame(0, message)])],
          [headers, Buffer.alloc(0)],
          [headers, frame(0x80, message)],
        ];
    for (const [h, b] of special) note(codeOf(await send(h, b), wire));
    if (!wire.startsWith("connect")) {
      // The one INTERNAL a caller can cause: a frame flagged compressed with no
      // encoding declared — gRPC's compression spec says INTERNAL, and the
      // Connect conformance suite (test/conformance) holds servers to it.
      expect(codeOf(await send(headers, frame(1, message)), wire)).toBe("internal");
    }
    for (let i = 0; i < CASES_PER_WIRE; i++) note(codeOf(await send(headers, mutate(body, random)), wire));

    // The protocol's own codes only: "unimplemented" (an unknown encoding) is right, a bare HTTP 500 is not.
    const unexpected = [...seen.keys()].filter((code) => code === "internal" || code === "http 500" || code === "grpc undefined");
    expect(unexpected, JSON.stringify(Object.fromEntries(seen))).toEqual([]);
  });
});
