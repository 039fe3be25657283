/**
 * The direct lane (src/rpc/direct-lane.ts) against connect-node, byte for
 * byte: the same calls go to a service with the lane and to one without it
 * (same database, same service token), over raw HTTP/2, and every answer —
 * status, headers, body, trailers — must be the same. The calls cover what a
 * client can send at the framing level: both protocols and codecs, split
 * frames, extra and missing messages, a compressed flag without an encoding,
 * truncated frames, compressed requests and responses, bad deadlines,
 * unknown JSON fields, missing tokens, Envoy's Check; then deadlines that
 * pass while storage hangs, and streams the client cancels.
 */
import { randomUUID } from "node:crypto";
import http2 from "node:http2";
import { gunzipSync, gzipSync } from "node:zlib";
import { create, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VerifyRequestSchema, VerifyResponseSchema } from "../../gen/authn/v1/auth_pb.js";
import { CheckRequestSchema, CheckResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { generateKey } from "../../src/domain/key-format.js";
import { freezableProxy } from "../support/freezable-proxy.js";
import type { FreezableProxy } from "../support/freezable-proxy.js";
import { newKey, newOrganization } from "../support/fixtures.js";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";

const TOKEN = "direct-lane-test-service-token-0123456789";
const VERIFY = "/authn.v1.AuthService/Verify";
const CHECK = "/envoy.service.auth.v3.Authorization/Check";

interface Answer {
  status: number;
  headers: Record<string, string>;
  trailers: Record<string, string> | null;
  body: Buffer;
  /** The stream was reset instead of answered. */
  reset: number | null;
}

/** Sends one request on `session`: headers, then each chunk as its own DATA write. */
function send(
  session: http2.ClientHttp2Session,
  path: string,
  headers: Record<string, string>,
  chunks: readonly Buffer[],
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...headers }, { endStream: chunks.length === 0 });
    const answer: Answer = { status: 0, headers: {}, trailers: null, body: Buffer.alloc(0), reset: null };
    const body: Buffer[] = [];
    stream.on("response", (h) => {
      answer.status = Number(h[":status"]);
      for (const [name, value] of Object.entries(h)) if (!name.startsWith(":")) answer.headers[name] = String(value);
    });
    stream.on("trailers", (t) => {
      answer.trailers = {};
      for (const [name, value] of Object.entries(t)) answer.trailers[name] = String(value);
    });
    stream.on("data", (chunk: Buffer) => body.push(chunk));
    stream.on("error", () => {});
    stream.on("close", () => {
      answer.body = Buffer.concat(body);
      if (stream.rstCode && answer.status === 0) answer.reset = stream.rstCode;
      resolve(answer);
    });
    stream.on("timeout", () => reject(new Error("no answer")));
    chunks.forEach((chunk, i) => (i === chunks.length - 1 ? stream.end(chunk) : stream.write(chunk)));
  });
}

const frame = (message: Uint8Array, flags = 0): Buffer => {
  const out = Buffer.alloc(5 + message.length);
  out[0] = flags;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
};

/** What may differ between two correct answers: the date, a generated request id, the rate limit's reset time. */
function normalized(answer: Answer): unknown {
  const headers = { ...answer.headers };
  delete headers.date;
  if (headers["x-request-id"] && /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(headers["x-request-id"])) {
    headers["x-request-id"] = "<generated v7>";
  }
  return { ...answer, headers, body: normalizedBody(answer) };
}

function normalizedBody(answer: Answer): unknown {
  const type = answer.headers["content-type"] ?? "";
  let body = answer.body;
  try {
    if (type.startsWith("application/grpc")) {
      if (body.length < 5) return body.toString("hex");
      const compressed = body[0] === 1;
      body = body.subarray(5);
      if (compressed) body = gunzipSync(body);
    } else if (answer.headers["content-encoding"] === "gzip") {
      body = gunzipSync(body);
    }
    if (answer.status !== 200) return body.toString("utf8");
    if (type === "application/json") return maskJson(JSON.parse(body.toString("utf8")));
    for (const schema of [VerifyResponseSchema, CheckResponseSchema]) {
      try {
        const message = fromBinary(schema, body);
        if (schema === VerifyResponseSchema) return maskJson(JSON.parse(toJsonString(VerifyResponseSchema, message as never)));
        return maskJson(JSON.parse(toJsonString(CheckResponseSchema, message as never)));
      } catch {
        // the other schema
      }
    }
  } catch {
    // not a message: compare the bytes
  }
  return body.toString("hex");
}

/** Rate-limit reset times depend on the clock: masked wherever they appear. */
function maskJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskJson);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    const record = value as Record<string, unknown>;
    for (const [key, inner] of Object.entries(record)) {
      if (key === "resetMs") out[key] = "<time>";
      else if ((key === "value" || key === "rawValue") && /reset/i.test(String(record.name ?? record.key ?? ""))) out[key] = "<time>";
      else out[key] = maskJson(inner);
    }
    return out;
  }
  return value;
}

let lane: TestKeyward;
let plain: TestKeyward;
let laneSession: http2.ClientHttp2Session;
let plainSession: http2.ClientHttp2Session;
let key: string;
let bigKey: string;

beforeAll(async () => {
  const database = `kw_lane_${randomUUID().slice(0, 8)}`;
  const env = { KEYWARD_MONGODB_DATABASE: database, KEYWARD_INTERNAL_TOKENS: TOKEN };
  lane = await startTestKeyward({ env });
  plain = await startTestKeyward({ env, directLane: false });
  const clients = lane.clients("grpc", TOKEN);
  const org = await newOrganization(clients);
  key = (await newKey(clients, org, { scopes: ["send"], metadata: { plan: "pro" } })).key;
  // Metadata that makes the verdict larger than the 1 KiB from which answers are compressed.
  const metadata = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`m${i}`, "x".repeat(300)]));
  bigKey = (await newKey(clients, org, { metadata })).key;
  laneSession = http2.connect(lane.keyward.server.rpcUrl);
  plainSession = http2.connect(plain.keyward.server.rpcUrl);
});

afterAll(async () => {
  laneSession?.close();
  plainSession?.close();
  await lane?.stop();
  await plain?.stop();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const verifyRequest = (credential: string, extra: Partial<{ cost: number; path: string }> = {}) =>
  create(VerifyRequestSchema, {
    headers: [{ name: "Authorization", value: `Bearer ${credential}` }, { name: "Host", value: "api.example.com" }],
    method: "POST",
    path: extra.path ?? "/v1/send",
    clientIp: "203.0.113.7",
    cost: extra.cost ?? 0,
  });
const proto = (credential: string, extra?: Partial<{ cost: number; path: string }>) =>
  Buffer.from(toBinary(VerifyRequestSchema, verifyRequest(credential, extra)));
const checkRequest = (credential: string) =>
  Buffer.from(
    toBinary(
      CheckRequestSchema,
      create(CheckRequestSchema, {
        attributes: {
          request: { http: { method: "POST", path: "/v1/send", headers: { authorization: `Bearer ${credential}`, host: "api.example.com" } } },
        },
      }),
    ),
  );

type Case = [name: string, path: string, headers: Record<string, string>, chunks: () => Buffer[]];
const GRPC = { "content-type": "application/grpc", te: "trailers", ...auth };
const CONNECT = { "content-type": "application/proto", ...auth };

const CASES: Case[] = [
  ["connect proto, allowed", VERIFY, CONNECT, () => [proto(key)]],
  ["connect proto with the caller's request id", VERIFY, { ...CONNECT, "x-request-id": "req-123" }, () => [proto(key)]],
  ["connect json, allowed", VERIFY, { ...auth, "content-type": "application/json" }, () => [Buffer.from(toJsonString(VerifyRequestSchema, verifyRequest(key)))]],
  ["connect json, an unknown field", VERIFY, { ...auth, "content-type": "application/json" }, () => [Buffer.from('{"headers":[],"nope":1}')]],
  ["connect json, not JSON", VERIFY, { ...auth, "content-type": "application/json" }, () => [Buffer.from("{")]],
  ["connect json, a field given twice", VERIFY, { ...auth, "content-type": "application/json" }, () => [Buffer.from('{"path":"/v1/send","path":"/v1/send"}')]],
  ["connect json, by proto names and spaced", VERIFY, { ...auth, "content-type": "application/json" }, () => [Buffer.from(`{ "headers": [{"name": "authorization", "value": "Bearer ${key}"}], "required_scope": "send" }`)]],
  ["connect json, a null field", VERIFY, { ...auth, "content-type": "application/json" }, () => [Buffer.from('{"headers":null,"path":"/v1/send"}')]],
  ["connect proto, denied (unknown key)", VERIFY, CONNECT, () => [proto("sk_live_unknown")]],
  ["connect proto, invalid cost", VERIFY, CONNECT, () => [proto(key, { cost: 5_000_000 })]],
  ["connect proto, garbage", VERIFY, CONNECT, () => [Buffer.from([0xff, 0xff, 0xff])]],
  ["connect proto, empty body", VERIFY, CONNECT, () => []],
  ["connect proto, split in three writes", VERIFY, CONNECT, () => { const b = proto(key); return [b.subarray(0, 3), b.subarray(3, 20), b.subarray(20)]; }],
  ["connect, a bad timeout", VERIFY, { ...CONNECT, "connect-timeout-ms": "soon" }, () => [proto(key)]],
  ["connect, a valid timeout", VERIFY, { ...CONNECT, "connect-timeout-ms": "5000" }, () => [proto(key)]],
  ["connect, a gzip request", VERIFY, { ...CONNECT, "content-encoding": "gzip" }, () => [gzipSync(proto(key))]],
  ["connect, an unknown request encoding", VERIFY, { ...CONNECT, "content-encoding": "zstd" }, () => [proto(key)]],
  ["connect, gzip accepted, small answer", VERIFY, { ...CONNECT, "accept-encoding": "gzip" }, () => [proto(key)]],
  ["connect, gzip accepted, large answer", VERIFY, { ...CONNECT, "accept-encoding": "br, gzip" }, () => [proto(bigKey)]],
  ["connect, no service token", VERIFY, { "content-type": "application/proto" }, () => [proto(key)]],
  ["connect, a wrong service token", VERIFY, { "content-type": "application/proto", authorization: "Bearer nope" }, () => [proto(key)]],
  ["grpc, allowed", VERIFY, GRPC, () => [frame(proto(key))]],
  ["grpc+proto, allowed", VERIFY, { ...GRPC, "content-type": "application/grpc+proto" }, () => [frame(proto(key))]],
  ["grpc+json", VERIFY, { ...GRPC, "content-type": "application/grpc+json" }, () => [frame(Buffer.from(toJsonString(VerifyRequestSchema, verifyRequest(key))))]],
  ["grpc, frame header and message split", VERIFY, GRPC, () => { const f = frame(proto(key)); return [f.subarray(0, 2), f.subarray(2, 5), f.subarray(5, 9), f.subarray(9)]; }],
  ["grpc, two messages", VERIFY, GRPC, () => [frame(proto(key)), frame(proto(key))]],
  ["grpc, no message", VERIFY, GRPC, () => []],
  ["grpc, a truncated frame", VERIFY, GRPC, () => [frame(proto(key)).subarray(0, 20)]],
  ["grpc, a frame longer than promised", VERIFY, GRPC, () => [Buffer.concat([frame(proto(key)), Buffer.from([1, 2])])]],
  ["grpc, compressed flag without an encoding", VERIFY, GRPC, () => [frame(proto(key), 1)]],
  ["grpc, a gzip request", VERIFY, { ...GRPC, "grpc-encoding": "gzip" }, () => [frame(gzipSync(proto(key)), 1)]],
  ["grpc, an unknown request encoding", VERIFY, { ...GRPC, "grpc-encoding": "zstd" }, () => [frame(proto(key))]],
  ["grpc, gzip accepted, small answer", VERIFY, { ...GRPC, "grpc-accept-encoding": "identity, deflate, gzip" }, () => [frame(proto(key))]],
  ["grpc, gzip accepted, large answer", VERIFY, { ...GRPC, "grpc-accept-encoding": "gzip" }, () => [frame(proto(bigKey))]],
  ["grpc, garbage", VERIFY, GRPC, () => [frame(Buffer.from([0xff, 0xff, 0xff]))]],
  ["grpc, invalid cost", VERIFY, GRPC, () => [frame(proto(key, { cost: 5_000_000 }))]],
  ["grpc, a bad timeout", VERIFY, { ...GRPC, "grpc-timeout": "1X" }, () => [frame(proto(key))]],
  ["grpc, a valid timeout", VERIFY, { ...GRPC, "grpc-timeout": "5S" }, () => [frame(proto(key))]],
  ["grpc, two timeouts", VERIFY, { ...GRPC, "grpc-timeout": "5S, 6S" }, () => [frame(proto(key))]],
  ["grpc, no service token", VERIFY, { "content-type": "application/grpc", te: "trailers" }, () => [frame(proto(key))]],
  ["grpc-web", VERIFY, { ...auth, "content-type": "application/grpc-web+proto" }, () => [frame(proto(key))]],
  ["check, allowed", CHECK, GRPC, () => [frame(checkRequest(key))]],
  ["check, denied", CHECK, GRPC, () => [frame(checkRequest("sk_live_unknown"))]],
  ["check, no service token", CHECK, { "content-type": "application/grpc", te: "trailers" }, () => [frame(checkRequest(key))]],
  ["check, the token as x-keyward-service-token", CHECK, { "content-type": "application/grpc", "x-keyward-service-token": TOKEN }, () => [frame(checkRequest(key))]],
  ["check over connect json", CHECK, { ...auth, "content-type": "application/json" }, () => [Buffer.from("{}")]],
];

describe("the direct lane answers as connect-node does", () => {
  for (const [name, path, headers, chunks] of CASES) {
    it(name, async () => {
      const fromLane = await send(laneSession, path, headers, chunks());
      const fromPlain = await send(plainSession, path, headers, chunks());
      expect(normalized(fromLane)).toEqual(normalized(fromPlain));
      expect(fromLane.reset).toBeNull();
    });
  }

  it("answers every allowed call on both protocols (the comparison is not of two failures)", async () => {
    for (const [headers, body] of [[CONNECT, proto(key)], [GRPC, frame(proto(key))]] as const) {
      const answer = await send(laneSession, VERIFY, headers, [body]);
      expect(answer.status).toBe(200);
      const message = headers === GRPC ? answer.body.subarray(5) : answer.body;
      expect(fromBinary(VerifyResponseSchema, message)).toMatchObject({ allowed: true, scopes: ["send"], metadata: { plan: "pro" } });
    }
  });
});

describe("cancelled streams", () => {
  it("a stream reset mid-body or mid-call leaves the lane serving", async () => {
    // Fewer resets than the rapid-reset guard allows a connection (src/connection-limits.ts).
    const session = http2.connect(lane.keyward.server.rpcUrl);
    for (let i = 0; i < 25; i++) {
      const stream = session.request({ ":method": "POST", ":path": VERIFY, ...GRPC });
      stream.on("error", () => {});
      stream.write(frame(proto(key)).subarray(0, 10));
      stream.close(http2.constants.NGHTTP2_CANCEL);
      const whole = session.request({ ":method": "POST", ":path": VERIFY, ...GRPC });
      whole.on("error", () => {});
      whole.end(frame(proto(key)));
      whole.close(http2.constants.NGHTTP2_CANCEL);
    }
    const answer = await send(session, VERIFY, GRPC, [frame(proto(key))]);
    session.close();
    expect(answer.trailers?.["grpc-status"]).toBe("0");
  });
});

describe("deadlines while storage hangs", () => {
  let proxy: FreezableProxy;
  let hungLane: TestKeyward;
  let hungPlain: TestKeyward;

  beforeAll(async () => {
    proxy = await freezableProxy(Number(new URL(inject("mongoUri")).port));
    const env = { MONGODB_URI: `mongodb://127.0.0.1:${proxy.port}/`, KEYWARD_MONGODB_TIMEOUT_MS: "8000", KEYWARD_SHUTDOWN_GRACE_MS: "500" };
    hungLane = await startTestKeyward({ env });
    hungPlain = await startTestKeyward({ env, directLane: false });
  });
  afterAll(async () => {
    proxy?.thaw();
    await hungLane?.stop();
    await hungPlain?.stop();
    await proxy?.close();
  });

  it("answers DEADLINE_EXCEEDED at the caller's deadline, not the storage deadline (8 s)", async () => {
    proxy.freeze();
    const unseen = generateKey("live").plaintext;
    for (const service of [hungLane, hungPlain]) {
      const session = http2.connect(service.keyward.server.rpcUrl);
      try {
        const started = performance.now();
        const grpc = await send(session, VERIFY, { "content-type": "application/grpc", "grpc-timeout": "300m" }, [frame(proto(unseen))]);
        const connect = await send(session, VERIFY, { "content-type": "application/proto", "connect-timeout-ms": "300" }, [proto(unseen)]);
        const elapsedMs = performance.now() - started;
        expect(grpc.trailers).toMatchObject({ "grpc-status": "4", "grpc-message": "the%20operation%20timed%20out" });
        expect(connect.status).toBe(504);
        expect(JSON.parse(connect.body.toString("utf8"))).toEqual({ code: "deadline_exceeded", message: "the operation timed out" });
        expect(elapsedMs).toBeLessThan(4000);
      } finally {
        session.close();
      }
    }
  });
});
