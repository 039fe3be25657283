/** The internal RPC port requires a service token once tokens are configured. */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROTOCOLS, startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";

const TOKENS = ["svc-token-aaaaaaaaaaaaaaaa", "svc-token-bbbbbbbbbbbbbbbb"];
let service: TestKeyward;

beforeAll(async () => {
  service = await startTestKeyward({ embedded: true, env: { KEYWARD_INTERNAL_TOKENS: TOKENS.join(",") } });
});
afterAll(() => service?.stop());

describe.each(PROTOCOLS)("service tokens over %s", (protocol) => {
  it("rejects a missing or wrong token with UNAUTHENTICATED on every service", async () => {
    for (const token of [undefined, "svc-token-aaaaaaaaaaaaaaab", "Basic x", ""]) {
      const { apiKeys, auth, organizations } = service.clients(protocol, token);
      await expect(apiKeys.listApiKeys({ organizationId: "acme" })).rejects.toMatchObject({
        code: Code.Unauthenticated,
      });
      await expect(auth.verify({ headers: [] })).rejects.toMatchObject({ code: Code.Unauthenticated });
      await expect(organizations.getOrganization({ id: "acme" })).rejects.toMatchObject({
        code: Code.Unauthenticated,
      });
    }
  });

  it("accepts each configured token", async () => {
    for (const token of TOKENS) {
      const { apiKeys } = service.clients(protocol, token);
      await expect(apiKeys.listApiKeys({ organizationId: "acme" })).resolves.toMatchObject({ apiKeys: [] });
    }
  });
});

describe("development on loopback", () => {
  it("needs no token when none is configured", async () => {
    const open = await startTestKeyward({ embedded: true });
    try {
      const { apiKeys } = open.clients("grpc");
      await expect(apiKeys.listApiKeys({ organizationId: "acme" })).resolves.toMatchObject({ apiKeys: [] });
    } finally {
      await open.stop();
    }
  });
});

describe("the dashboard-facing HTTP port", () => {
  it("never serves the RPC services", async () => {
    for (const path of [
      "/authn.v1.ApiKeyService/CreateApiKey",
      "/authn.v1.OrganizationService/SuspendOrganization",
      "/authn.v1.AuthService/Verify",
    ]) {
      const res = await fetch(`${service.keyward.server.httpUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKENS[0]}` },
        body: JSON.stringify({ organizationId: "acme", name: "sneaky" }),
      });
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    const { apiKeys } = service.clients("grpc", TOKENS[0]);
    expect((await apiKeys.listApiKeys({ organizationId: "acme" })).apiKeys).toEqual([]);
  });
});
