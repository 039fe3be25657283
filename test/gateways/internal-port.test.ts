/**
 * The internal port speaks h2c and HTTP/1.1 on one port: Connect unary and
 * gRPC-Web over plain HTTP/1.1 (real curl, no --http2-prior-knowledge), the
 * h2c clients as before, and the gateways' doors on both, each behind the
 * service token.
 */
import { execFile } from "node:child_process";
import http2 from "node:http2";
import { connect } from "node:net";
import { promisify } from "node:util";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthService, VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { PROTOCOLS, startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";
import { SERVICE_TOKEN } from "../clients/programs.js";

const run = promisify(execFile);
let service: TestKeyward;
let url: string;

beforeAll(async () => {
  service = await startTestKeyward({ embedded: true, env: { KEYWARD_INTERNAL_TOKENS: SERVICE_TOKEN } });
  url = service.keyward.server.rpcUrl;
});
afterAll(async () => {
  await service?.stop();
});

/** Real curl over HTTP/1.1: status, protocol version, body. */
async function curl(path: string, args: string[]): Promise<{ status: number; version: string; body: string }> {
  const { stdout } = await run("curl", ["-s", "--http1.1", "-w", "\n%{http_code} %{http_version}", ...args, `${url}${path}`]);
  const end = stdout.lastIndexOf("\n");
  const [status = "0", version = ""] = stdout.slice(end + 1).split(" ");
  return { status: Number(status), version, body: stdout.slice(0, end) };
}

describe("the internal port over HTTP/1.1", () => {
  it("answers Connect unary Verify to curl without --http2-prior-knowledge", async () => {
    const res = await curl("/authn.v1.AuthService/Verify", [
      "-H", "content-type: application/json",
      "-H", `authorization: Bearer ${SERVICE_TOKEN}`,
      "-d", JSON.stringify({ headers: [{ name: "Authorization", value: "Bearer sk_live_nope" }] }),
    ]);
    expect(res).toMatchObject({ status: 200, version: "1.1" });
    expect(JSON.parse(res.body)).toMatchObject({ code: "VERIFY_CODE_MALFORMED_CREDENTIALS", http: { status: 401 } });
  });

  it("keeps the service token for RPC over HTTP/1.1", async () => {
    const res = await curl("/authn.v1.AuthService/Verify", ["-H", "content-type: application/json", "-d", "{}"]);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ code: "unauthenticated" });
  });

  it.each([
    ["Connect", createConnectTransport],
    ["gRPC-Web", createGrpcWebTransport],
  ] as const)("serves %s clients on HTTP/1.1", async (_name, transport) => {
    const auth = createClient(
      AuthService,
      transport({
        baseUrl: url,
        httpVersion: "1.1",
        interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${SERVICE_TOKEN}`), next(req))],
      }),
    );
    expect((await auth.verify({ headers: [] })).code).toBe(VerifyCode.MISSING_CREDENTIALS);
  });

  it("reads a request that arrives one byte at a time (its first byte is also the preface's)", async () => {
    const request = `POST /forward-auth HTTP/1.1\r\nHost: x\r\nX-Keyward-Service-Token: ${SERVICE_TOKEN}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
    const { port } = new URL(url);
    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1");
      let text = "";
      socket.on("data", (d: Buffer) => (text += d.toString()));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
      let i = 0;
      const next = (): void => {
        if (i < request.length) socket.write(request[i++] ?? "", () => setImmediate(next));
      };
      socket.on("connect", next);
    });
    expect(response).toMatch(/^HTTP\/1\.1 401 /);
    expect(response).toContain('"code":"missing_credentials"');
  });

  it("answers a request Node's parser refuses with problem+json", async () => {
    const res = await curl("/forward-auth", ["-H", `x-big: ${"a".repeat(70 * 1024)}`]);
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body)).toMatchObject({ status: 431 });
  });
});

describe("the internal port over h2c", () => {
  it.each(PROTOCOLS)("still serves %s clients", async (protocol) => {
    const verdict = await service.clients(protocol, SERVICE_TOKEN).auth.verify({ headers: [] });
    expect(verdict.code).toBe(VerifyCode.MISSING_CREDENTIALS);
  });

  it("serves forward-auth too", async () => {
    const session = http2.connect(url);
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({
          ":path": "/forward-auth/v1/send",
          ":method": "POST",
          "x-keyward-service-token": SERVICE_TOKEN,
          authorization: "Bearer sk_live_a",
          "x-api-key": "sk_live_b",
        });
        let status = 0;
        let text = "";
        stream.on("response", (h) => (status = Number(h[":status"])));
        stream.on("data", (d: Buffer) => (text += d.toString()));
        stream.on("end", () => resolve({ status, body: text }));
        stream.on("error", reject);
        stream.end();
      });
      expect(status).toBe(400);
      expect(JSON.parse(body)).toMatchObject({ code: "ambiguous_credentials" });
    } finally {
      session.close();
    }
  });
});

describe("the gateways' doors need the service token", () => {
  it.each<[string, string[]]>([
    ["none", []],
    ["a wrong one", ["-H", "X-Keyward-Service-Token: wrong-token-0123456789"]],
    ["the token as the request's Authorization (that is the credential checked)", ["-H", `Authorization: Bearer ${SERVICE_TOKEN}`]],
  ])("forward-auth refuses %s", async (_name, args) => {
    const res = await curl("/forward-auth/v1/messages", args);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ status: 401, code: "invalid_service_token" });
  });

  it.each<[string, Record<string, string>, Code | "ok"]>([
    ["no token", {}, Code.Unauthenticated],
    ["a wrong token", { "x-keyward-service-token": "wrong-token-0123456789" }, Code.Unauthenticated],
    ["x-keyward-service-token metadata", { "x-keyward-service-token": SERVICE_TOKEN }, "ok"],
    ["Authorization: Bearer metadata", { authorization: `Bearer ${SERVICE_TOKEN}` }, "ok"],
  ])("ext_authz Check with %s", async (_name, headers, expected) => {
    const check = createClient(
      Authorization,
      createConnectTransport({
        baseUrl: url,
        httpVersion: "2",
        interceptors: [(next) => (req) => (Object.entries(headers).forEach(([k, v]) => req.header.set(k, v)), next(req))],
      }),
    );
    const outcome = await check.check({}).then(
      (res) => (res.status?.code === 16 ? "ok" : `status ${res.status?.code}`),
      (error: { code: Code }) => error.code,
    );
    expect(outcome).toBe(expected);
  });
});
