/**
 * KEYWARD_FORWARD_METADATA: the gateway doors pass the named metadata keys
 * of an allowed key upstream as X-Keyward-Meta-<key> — always present, empty
 * when the key has none, percent-encoded past visible ASCII — and nothing on
 * a denial. Forward-auth over HTTP/1.1, and Envoy's Check.
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";
import { newOrganization } from "../support/fixtures.js";

let service: TestKeyward;
let key: string;

beforeAll(async () => {
  service = await startTestKeyward({ env: { KEYWARD_FORWARD_METADATA: "plan,team,region" } });
  const clients = service.clients("grpc");
  const org = await newOrganization(clients);
  ({ key } = await clients.apiKeys.createApiKey({ organizationId: org, name: "meta", metadata: { plan: "gold", region: "New York", secret: "not forwarded" } }));
});
afterAll(() => service.stop());

const forwardAuth = (authorization: string) =>
  fetch(`${service.keyward.server.rpcUrl}/forward-auth`, {
    headers: { authorization, "x-forwarded-method": "GET", "x-forwarded-uri": "/v1/messages", "x-keyward-meta-plan": "forged" },
  });

describe("forwarded metadata", () => {
  it("forward-auth answers the named keys, always, and only those", async () => {
    const res = await forwardAuth(`Bearer ${key}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-keyward-meta-plan")).toBe("gold");
    expect(res.headers.get("x-keyward-meta-team")).toBe("");
    expect(res.headers.get("x-keyward-meta-region")).toBe("New%20York");
    expect(res.headers.get("x-keyward-meta-secret")).toBeNull();
    const denied = await forwardAuth("Bearer sk_live_nope");
    expect(denied.status).toBe(401);
    expect(denied.headers.get("x-keyward-meta-plan")).toBeNull();
  });

  it("Envoy's Check puts them in ok_response.headers, replacing a client's copy", async () => {
    const check = createClient(Authorization, createGrpcTransport({ baseUrl: service.keyward.server.rpcUrl }));
    const res = await check.check({
      attributes: { request: { http: { method: "GET", path: "/v1/messages", headers: { authorization: `Bearer ${key}`, "x-keyward-meta-plan": "forged" } } } },
    });
    expect(res.status?.code).toBe(0);
    const ok = res.httpResponse.case === "okResponse" ? res.httpResponse.value : undefined;
    const meta = Object.fromEntries((ok?.headers ?? []).filter((h) => h.header?.key.startsWith("x-keyward-meta-")).map((h) => [h.header?.key, [h.header?.value, h.append]]));
    expect(meta).toEqual({
      "x-keyward-meta-plan": ["gold", false],
      "x-keyward-meta-team": ["", false],
      "x-keyward-meta-region": ["New%20York", false],
    });
  });
});
