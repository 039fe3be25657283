/**
 * What an operator sees: the series of GET /metrics after traffic on every
 * transport, and one access-log line per request with its request id —
 * never a key, hash, hint or token in either.
 */
import { randomBytes, createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";
import { startTestKeyward } from "../support/keyward.js";
import type { Clients, TestKeyward } from "../support/keyward.js";
import { labelledValue, scrape } from "../support/metrics.js";

const token = randomBytes(24).toString("base64url");
let service: TestKeyward;
let clients: Clients;
let key: string;
let keyId: string;
let org: string;

beforeAll(async () => {
  service = await startTestKeyward({ env: { REDIS_URL: inject("redisUrl"), KEYWARD_INTERNAL_TOKENS: token }, captureLogs: true });
  clients = service.clients("grpc", token);
  org = await newOrganization(clients);
  ({ key, id: keyId } = await newKey(clients, org));
});
afterAll(async () => {
  await service.stop();
});

const http = () => service.keyward.server.httpUrl;
const accessLines = () => service.logs.filter((l) => l.msg === "request");

describe("metrics after traffic on every transport", () => {
  it("has verdicts, latency by transport/route/code, cache, storage, Redis and dependency series", async () => {
    expect((await clients.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.OK); // miss, then stored
    expect((await clients.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.OK); // hit
    expect((await clients.auth.verify({ headers: [] })).code).toBe(VerifyCode.MISSING_CREDENTIALS);
    await expect(service.clients("grpc").auth.verify({ headers: bearer(key) })).rejects.toThrow(/service token/);
    expect((await fetch(`${http()}/v1/api-keys`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    expect((await fetch(`${http()}/v1/api-keys`)).status).toBe(401);
    // The gateway doors, on the internal port.
    const rpcUrl = service.keyward.server.rpcUrl;
    const forwardAuth = await fetch(`${rpcUrl}/forward-auth/v1/messages`, {
      headers: { authorization: `Bearer ${key}`, "x-keyward-service-token": token },
    });
    expect(forwardAuth.status).toBe(200);
    const check = createClient(Authorization, createGrpcTransport({ baseUrl: rpcUrl }));
    const checked = await check.check(
      { attributes: { request: { http: { method: "GET", path: "/v1/messages", headers: { authorization: `Bearer ${key}` } } } } },
      { headers: { "x-keyward-service-token": token } },
    );
    expect(checked.status?.code).toBe(0);

    const text = await scrape(http());
    // A series given with its value must match the whole line; one without, any value.
    const has = (series: string, value?: number) =>
      expect(text.split("\n").some((l) => (value === undefined ? l.startsWith(`${series} `) : l === `${series} ${value}`)), series).toBe(true);

    has('keyward_verify_verdicts_total{code="OK",transport="rpc"}', 2);
    has('keyward_verify_verdicts_total{code="MISSING_CREDENTIALS",transport="rpc"}', 1);
    has('keyward_verify_verdicts_total{code="OK",transport="rest"}', 1);
    has('keyward_verify_verdicts_total{code="MISSING_CREDENTIALS",transport="rest"}', 1);
    has('keyward_verify_duration_seconds_count{transport="rpc",code="OK"}', 2);
    has('keyward_verify_duration_seconds_count{transport="rest",code="OK"}', 1);
    has('keyward_request_duration_seconds_count{transport="rpc",route="authn.v1.AuthService/Verify",status="ok"}', 3);
    has('keyward_request_duration_seconds_count{transport="rpc",route="authn.v1.AuthService/Verify",status="unauthenticated"}', 1);
    has('keyward_request_duration_seconds_count{transport="rest",route="/v1/api-keys",status="200"}', 1);
    has('keyward_request_duration_seconds_count{transport="rest",route="/v1/api-keys",status="401"}', 1);
    has('keyward_verify_verdicts_total{code="OK",transport="forward_auth"}', 1);
    has('keyward_verify_verdicts_total{code="OK",transport="ext_authz"}', 1);
    has('keyward_verify_duration_seconds_count{transport="forward_auth",code="OK"}', 1);
    has('keyward_request_duration_seconds_count{transport="forward_auth",route="/forward-auth",status="200"}', 1);
    has('keyward_request_duration_seconds_count{transport="rpc",route="envoy.service.auth.v3.Authorization/Check",status="ok"}', 1);
    has('keyward_cache_lookups_total{cache="key",result="miss"}');
    has('keyward_cache_lookups_total{cache="key",result="hit"}');
    has('keyward_storage_operation_duration_seconds_count{operation="find key by hash",outcome="ok"}');
    has('keyward_storage_operation_duration_seconds_count{operation="insert key",outcome="ok"}');
    has('keyward_redis_operation_duration_seconds_count{operation="rate_limit",outcome="ok"}');
    has('keyward_dependency_up{dependency="mongodb"}', 1);
    has('keyward_dependency_up{dependency="redis"}', 1);

    for (const secret of [key, key.slice(8, 20), createHash("sha256").update(key).digest("hex"), token]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("access log", () => {
  it("writes one line per request, with the caller's request id or a new one, never a secret", async () => {
    const before = accessLines().length;
    const rest = await fetch(`${http()}/v1/api-keys/${keyId}`, {
      headers: { authorization: `Bearer ${key}`, "x-request-id": "trace-rest-1" },
    });
    expect(rest.headers.get("x-request-id")).toBe("trace-rest-1");
    const withHeader = service.clients("grpc", token);
    const verdict = await withHeader.auth.verify({ headers: bearer(key) }, { headers: { "x-request-id": "trace-rpc-1" } });
    expect(verdict.code).toBe(VerifyCode.OK);
    const insane = await fetch(`${http()}/healthz`, { headers: { "x-request-id": "x".repeat(200) } });
    const minted = insane.headers.get("x-request-id") ?? "";
    expect(minted).toMatch(/^[0-9a-f-]{36}$/);

    const lines = accessLines().slice(before);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      level: "info", requestId: "trace-rest-1", transport: "rest", method: "GET", route: "/v1/api-keys/{id}", status: 200,
      keyId, organizationId: org,
    });
    expect(lines[1]).toMatchObject({
      requestId: "trace-rpc-1", transport: "rpc", route: "authn.v1.AuthService/Verify", status: "ok", verdict: "OK", keyId, organizationId: org,
    });
    expect(lines[2]).toMatchObject({ requestId: minted, transport: "rest", route: "/healthz", status: 200 });
    for (const line of lines) expect(typeof line.durationMs).toBe("number");

    const everything = JSON.stringify(service.logs);
    for (const secret of [key, key.slice(8, 20), createHash("sha256").update(key).digest("hex"), token]) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe("REST verdicts", () => {
  it("count a write key reading keys as one allowed call, not a denial first", async () => {
    const { key: writer } = await newKey(clients, org, { scopes: ["api_keys:write"] });
    const denials = () => labelledValue(http(), 'keyward_verify_verdicts_total{code="INSUFFICIENT_SCOPE",transport="rest"}');
    const allowed = () => labelledValue(http(), 'keyward_verify_verdicts_total{code="OK",transport="rest"}');
    const [deniedBefore, allowedBefore] = [await denials(), await allowed()];
    expect((await fetch(`${http()}/v1/api-keys`, { headers: { authorization: `Bearer ${writer}` } })).status).toBe(200);
    expect(await denials()).toBe(deniedBefore);
    expect(await allowed()).toBe(allowedBefore + 1);
  });
});

