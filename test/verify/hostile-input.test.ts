/**
 * Hostile VerifyRequests: a clear INVALID_ARGUMENT or a denial verdict, never
 * a crash, a hang or an internal error — and the server keeps answering.
 */
import http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { startTestKeyward } from "../support/keyward.js";
import type { Clients, TestKeyward } from "../support/keyward.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";

let service: TestKeyward;
let clients: Clients;
let key: string;

beforeAll(async () => {
  // The oversized-message case leaves the client's upload stream open (it is
  // refused, not read); a short shutdown grace keeps stop() from waiting on it.
  service = await startTestKeyward({ env: { KEYWARD_SHUTDOWN_GRACE_MS: "300" } });
  clients = service.clients("grpc");
  key = (await newKey(clients, await newOrganization(clients))).key;
});
afterAll(() => service?.stop());

async function codeOf(call: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

type RawProtocol = "connect" | "grpc" | "grpc-web";

/**
 * One raw unary Verify call over h2c, for bodies no client would build.
 * Answers the HTTP status, the body text and the gRPC status wherever the
 * protocol carries it (trailers, or the gRPC-Web trailer frame).
 */
function rawCall(
  protocol: RawProtocol,
  message: Uint8Array | string,
  contentType = "application/proto",
): Promise<{ status: number; body: string; grpcStatus: string | null }> {
  const framed = protocol !== "connect";
  const payload = Buffer.from(message);
  const body = framed ? Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), payload]) : payload;
  if (framed) body.writeUInt32BE(payload.length, 1);
  const headers: http2.OutgoingHttpHeaders = {
    ":method": "POST",
    ":path": "/authn.v1.AuthService/Verify",
    "content-type":
      protocol === "connect" ? contentType : protocol === "grpc" ? "application/grpc+proto" : "application/grpc-web+proto",
  };
  if (protocol === "connect") headers["connect-protocol-version"] = "1";
  if (protocol === "grpc") headers.te = "trailers";
  return new Promise((resolve, reject) => {
    const session = http2.connect(service.keyward.server.rpcUrl);
    session.on("error", reject);
    const req = session.request(headers);
    const chunks: Buffer[] = [];
    let status = 0;
    let grpcStatus: string | null = null;
    req.on("response", (h) => {
      status = Number(h[":status"]);
      if (h["grpc-status"] !== undefined) grpcStatus = String(h["grpc-status"]);
    });
    req.on("trailers", (t) => {
      if (t["grpc-status"] !== undefined) grpcStatus = String(t["grpc-status"]);
    });
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      session.close();
      const text = Buffer.concat(chunks).toString("latin1");
      const webStatus = /grpc-status: ?(\d+)/.exec(text)?.[1];
      resolve({ status, body: text, grpcStatus: grpcStatus ?? webStatus ?? null });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** protobuf: field 1 (headers) holding Header{name, value} with raw value bytes. */
function verifyRequestBytes(name: string, value: Uint8Array): Uint8Array {
  const nameBytes = Buffer.from(name, "utf8");
  const header = Buffer.concat([
    Buffer.from([0x0a, nameBytes.length]),
    nameBytes,
    Buffer.from([0x12, value.length]),
    Buffer.from(value),
  ]);
  return Buffer.concat([Buffer.from([0x0a, header.length]), header]);
}

describe("hostile VerifyRequests", () => {
  it("rejects thousands of headers, but takes a large ordinary set", async () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ name: `x-h-${i}`, value: "v" }));
    expect(await codeOf(clients.auth.verify({ headers: [...many, ...bearer(key)] }))).toBe(Code.InvalidArgument);
    const fine = Array.from({ length: 900 }, (_, i) => ({ name: `x-h-${i}`, value: "v" }));
    expect((await clients.auth.verify({ headers: [...fine, ...bearer(key)] })).code).toBe(VerifyCode.OK);
  });

  it("rejects a 1 MiB header value and a 20 KiB Authorization value", async () => {
    const huge = "a".repeat(1024 * 1024);
    for (const protocol of ["grpc", "connect"] as const) {
      const c = service.clients(protocol);
      expect(await codeOf(c.auth.verify({ headers: [{ name: "x-junk", value: huge }, ...bearer(key)] }))).toBe(
        Code.InvalidArgument,
      );
      expect(await codeOf(c.auth.verify({ headers: bearer("a".repeat(20 * 1024)) }))).toBe(Code.InvalidArgument);
    }
  });

  it("rejects a message over the size limit without buffering it forever", async () => {
    const headers = Array.from({ length: 10 }, (_, i) => ({ name: `x-big-${i}`, value: "b".repeat(600 * 1024) }));
    expect(await codeOf(clients.auth.verify({ headers }))).toBe(Code.ResourceExhausted);
  });

  it("rejects empty header names, bad scopes, costs and oversized routes", async () => {
    expect(await codeOf(clients.auth.verify({ headers: [{ name: "", value: "x" }, ...bearer(key)] }))).toBe(Code.InvalidArgument);
    expect(await codeOf(clients.auth.verify({ headers: bearer(key), requiredScope: 'send"\r\nSet-Cookie: a=b' }))).toBe(
      Code.InvalidArgument,
    );
    expect(await codeOf(clients.auth.verify({ headers: bearer(key), cost: 4_000_000_000 }))).toBe(Code.InvalidArgument);
    expect(await codeOf(clients.auth.verify({ headers: bearer(key), method: "GET", path: `/${"a".repeat(5000)}` }))).toBe(
      Code.InvalidArgument,
    );
  });

  it.each(["connect", "grpc", "grpc-web"] as const)(
    "answers invalid UTF-8 and garbled frames over %s with INVALID_ARGUMENT, never INTERNAL",
    async (protocol) => {
      const invalidUtf8 = verifyRequestBytes("authorization", Uint8Array.from([0x42, 0x65, 0x61, 0xff, 0xfe, 0x20, 0xc3]));
      const truncated = verifyRequestBytes("authorization", Buffer.from("Bearer x")).subarray(0, 9);
      const garbage = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x07, 0x00]);
      for (const message of [invalidUtf8, truncated, garbage]) {
        const res = await rawCall(protocol, message);
        if (protocol === "connect") {
          expect(res.status).toBe(400);
          expect(JSON.parse(res.body)).toMatchObject({ code: "invalid_argument" });
        } else {
          expect(res.status).toBe(200);
          expect(res.grpcStatus).toBe(String(Code.InvalidArgument));
        }
      }
    },
  );

  it("answers unknown JSON fields, NoSQL operators, wrong types and garbage JSON with 400", async () => {
    const bodies = [
      JSON.stringify({ headers: [], $where: "1" }),
      JSON.stringify({ headers: [{ name: { $gt: "" }, value: "x" }] }),
      JSON.stringify({ headers: "Bearer x", cost: "many" }),
      "{not json",
      "\u0000",
    ];
    for (const body of bodies) {
      const res = await rawCall("connect", body, "application/json");
      expect(res.status, body).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code: "invalid_argument" });
    }
  });

  it("denies odd but well-formed credentials with a verdict", async () => {
    const odd = [
      [{ name: "authorization", value: "Bearer" }],
      [{ name: "authorization", value: "Bearer a b c" }],
      [{ name: "authorization", value: "Bearer \u0000\u0001" }],
      [{ name: "authorization", value: `Bearer ${"€".repeat(100)}` }],
      [{ name: "x-api-key", value: key }, { name: "x-sender-id", value: "'; DROP TABLE keys; --" }],
      [{ name: "x-api-key", value: '{"$gt": ""}' }, { name: "x-sender-id", value: "550e8400-e29b-41d4-a716-446655440000" }],
    ];
    for (const headers of odd) {
      const verdict = await clients.auth.verify({ headers });
      expect(verdict.allowed).toBe(false);
      expect([401, 400]).toContain(verdict.http?.status);
    }
  });

  it("keeps answering after all of the above", async () => {
    expect((await clients.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.OK);
  });
});
