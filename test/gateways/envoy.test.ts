/**
 * Envoy's ext_authz over gRPC: Envoy's own generated client
 * (go-control-plane, test/gateways/envoy-client) calls
 * envoy.service.auth.v3.Authorization/Check on the internal port for the
 * gateway matrix, and every response passes the package's ValidateAll.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVICE_TOKEN } from "../clients/programs.js";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";
import { check } from "./envoy-client.js";
import type { CheckCase, CheckResult, HeaderOption } from "./envoy-client.js";
import { matrixKeys, PATH_TRICKS, UNAUTHENTICATED_CASES, unauthenticatedHeaders } from "./matrix.js";
import type { MatrixKeys } from "./matrix.js";

const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

let service: TestKeyward;
let org: string;
let results: Map<string, CheckResult>;
let keys: MatrixKeys;

beforeAll(async () => {
  service = await startTestKeyward({ env: { KEYWARD_INTERNAL_TOKENS: SERVICE_TOKEN } });
  keys = await matrixKeys(service.clients("grpc", SERVICE_TOKEN));
  org = keys.organizationId;

  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const cases: CheckCase[] = [
    { name: "bearer", headers: { ...bearer(keys.read.key), ":path": "/v1/messages" }, method: "GET", path: "/v1/messages?limit=1" },
    { name: "sent", headers: { "x-api-key": keys.full.key, "x-sender-id": org }, method: "POST", path: "/v1/send" },
    { name: "master", headers: { ...bearer(keys.master.key), "x-workspace-id": "ws-2" }, method: "GET", path: "/v1/context" },
    { name: "raw headers", rawHeaders: [["authorization", `Bearer ${keys.read.key}`]], method: "GET", path: "/v1/messages" },
    { name: "forged identity", headers: { ...bearer(keys.read.key), "x-keyward-organization-id": randomUUID(), "x-keyward-scopes": "*" }, method: "GET", path: "/v1/messages" },
    ...UNAUTHENTICATED_CASES.map(([name]) => ({ name, headers: unauthenticatedHeaders(name, keys), method: "GET", path: "/v1/messages" })),
    { name: "scope", headers: bearer(keys.read.key), method: "POST", path: "/v1/send" },
    { name: "joined credentials", headers: { authorization: `Bearer ${keys.read.key},Bearer ${keys.full.key}` }, method: "GET", path: "/v1/messages" },
    { name: "joined same credential", headers: { authorization: `Bearer ${keys.read.key}, Bearer ${keys.read.key}` }, method: "GET", path: "/v1/messages" },
    { name: "raw repeated credentials", rawHeaders: [["authorization", `Bearer ${keys.read.key}`], ["authorization", `Bearer ${keys.full.key}`]], method: "GET", path: "/v1/messages" },
    ...PATH_TRICKS.map(([path]) => ({ name: path, headers: bearer(keys.read.key), method: "POST", path })),
    { name: "limited first", headers: bearer(keys.limited.key), method: "GET", path: "/v1/messages" },
    { name: "limited second", headers: bearer(keys.limited.key), method: "GET", path: "/v1/messages" },
  ];
  results = await check(service.keyward.server.rpcPort, SERVICE_TOKEN, cases);
});
afterAll(async () => {
  await service?.stop();
});

const result = (name: string): CheckResult => {
  const found = results.get(name);
  if (!found) throw new Error(`no result for ${name}`);
  return found;
};
const headerMap = (options: HeaderOption[]) => Object.fromEntries(options.map((o) => [o.key, o.value]));
const problem = (r: CheckResult) => JSON.parse(r.body ?? "{}") as Record<string, unknown>;

describe("Envoy ext_authz (gRPC) with Envoy's generated client", () => {
  it("gets responses Envoy's own validation accepts, for every case", () => {
    for (const r of results.values()) {
      expect(r.error, r.name).toBeUndefined();
      expect(r.invalid, r.name).toBe("");
    }
  });

  it("allows a Bearer key: identity headers with append false, RateLimit-* for the client", () => {
    const r = result("bearer");
    expect(r).toMatchObject({ statusCode: 0, allowed: true, response: "ok_response" });
    expect(r.headers).toEqual([
      { key: "x-keyward-organization-id", value: org, append: false },
      { key: "x-keyward-key-id", value: keys.read.id, append: false },
      { key: "x-keyward-mode", value: "live", append: false },
      { key: "x-keyward-scopes", value: "read", append: false },
      { key: "x-keyward-workspace-id", value: "-", append: false },
      { key: "x-keyward-principal", value: "api_key", append: false },
      { key: "x-keyward-user-id", value: "-", append: false },
    ]);
    expect(r.responseHeadersToAdd.map((h) => [h.key, h.append])).toEqual([
      ["ratelimit-limit", false],
      ["ratelimit-remaining", false],
      ["ratelimit-reset", false],
    ]);
  });

  it.each([
    ["sent", () => ({ "x-keyward-key-id": keys.full.id, "x-keyward-scopes": "*" })],
    ["master", () => ({ "x-keyward-key-id": keys.master.id, "x-keyward-workspace-id": "ws-2" })],
    ["raw headers", () => ({ "x-keyward-key-id": keys.read.id })],
    ["forged identity", () => ({ "x-keyward-organization-id": org, "x-keyward-scopes": "read" })],
  ])("allows %s, the identity set over anything the client sent", (name, expected) => {
    const r = result(name);
    expect(r.allowed).toBe(true);
    expect(headerMap(r.headers)).toMatchObject(expected());
    expect(r.headers.every((h) => h.append === false)).toBe(true);
  });

  it.each(UNAUTHENTICATED_CASES)("denies a %s credential: UNAUTHENTICATED, keyward's 401 as the denied response", (name, code, challenge) => {
    const r = result(name);
    expect(r).toMatchObject({ statusCode: UNAUTHENTICATED, allowed: false, response: "denied_response", httpStatus: 401 });
    expect(problem(r)).toMatchObject({ status: 401, code });
    expect(headerMap(r.headers)).toMatchObject({ "content-type": "application/problem+json", "www-authenticate": challenge });
  });

  it.each([
    ["scope", 403, "insufficient_scope"],
    ["joined credentials", 400, "ambiguous_credentials"],
    ["raw repeated credentials", 400, "ambiguous_credentials"],
    ...PATH_TRICKS,
  ])("denies %s: PERMISSION_DENIED with keyward's %i", (name, status, code) => {
    const r = result(name);
    expect(r).toMatchObject({ statusCode: PERMISSION_DENIED, allowed: false, httpStatus: status });
    expect(problem(r)).toMatchObject({ status, code });
  });

  it("reads the same credential joined twice as one", () => {
    expect(result("joined same credential").allowed).toBe(true);
  });

  it("denies an exhausted pool 429 with Retry-After", () => {
    expect(result("limited first").allowed).toBe(true);
    const r = result("limited second");
    expect(r).toMatchObject({ statusCode: PERMISSION_DENIED, httpStatus: 429 });
    expect(Number(headerMap(r.headers)["retry-after"])).toBeGreaterThan(0);
    expect(problem(r)).toMatchObject({ code: "rate_limited" });
  });

  it("refuses a caller without the service token (UNAUTHENTICATED)", async () => {
    const refused = await check(service.keyward.server.rpcPort, null, [{ name: "no token", headers: {}, method: "GET", path: "/" }]);
    expect(refused.get("no token")?.error).toBe("Unauthenticated");
  });
});
