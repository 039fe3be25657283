/**
 * Who may use /v1/api-keys: every answer comes from the same Verifier as
 * AuthService/Verify — user access tokens of the organization, API keys with
 * the api_keys:read / api_keys:write scope (or unscoped), in any credential
 * style; denials are the verdict's status, headers and problem+json body.
 */
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrganizationSchema } from "../../gen/authn/v1/organization_pb.js";
import type { TestKeyward } from "../support/keyward.js";
import { bearer, call, client, newOrganizationId, rawRequest, startRestKeyward, tcpExchange, userToken } from "./support.js";

let service: TestKeyward;
let baseUrl: string;

beforeAll(async () => {
  service = await startRestKeyward();
  baseUrl = service.keyward.server.httpUrl;
});
afterAll(async () => {
  await service?.stop();
});

/** An organization with keys of each kind of access, created through the REST API itself. */
async function organizationWithKeys() {
  const organizationId = newOrganizationId();
  const user = client(baseUrl, bearer(await userToken(organizationId)));
  const make = async (name: string, scopes: string[]) => {
    const reply = await user("POST", "/v1/api-keys", { json: { name, scopes } });
    expect(reply.status).toBe(201);
    return reply.body as { id: string; key: string };
  };
  return {
    organizationId,
    user,
    read: await make("reader", ["api_keys:read"]),
    write: await make("writer", ["api_keys:write", "send"]),
    unscoped: await make("unscoped", []),
    other: await make("sender", ["send", "read"]),
    target: await make("target", ["send"]),
  };
}

const problemType = "application/problem+json";

describe("authentication of /v1/api-keys", () => {
  it("answers missing and bad credentials with the verdict's 401 (seed wording, WWW-Authenticate)", async () => {
    const none = await call(baseUrl, "GET", "/v1/api-keys");
    expect(none.status).toBe(401);
    expect(none.headers.get("content-type")).toBe(problemType);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="api"');
    expect(none.body).toEqual({
      type: "about:blank",
      title: "Unauthorized",
      status: 401,
      detail: "Authorization header not found",
      code: "missing_credentials",
    });

    const noSender = await call(baseUrl, "POST", "/v1/api-keys", { headers: { "x-api-key": "sk_live_whatever" }, json: { name: "x" } });
    expect(noSender.status).toBe(401);
    expect(noSender.body).toMatchObject({ detail: "Invalid x-sender-id", code: "invalid_sender_id" });

    const noKey = await call(baseUrl, "GET", "/v1/api-keys", { headers: { "x-sender-id": newOrganizationId() } });
    expect(noKey.body).toMatchObject({ status: 401, detail: "Header x-api-key not found" });

    const { unscoped } = await organizationWithKeys();
    const tampered = `${unscoped.key.slice(0, -1)}${unscoped.key.endsWith("A") ? "B" : "A"}`;
    const malformed = await call(baseUrl, "GET", "/v1/api-keys", { headers: bearer(tampered) });
    expect(malformed.status).toBe(401);
    expect(malformed.body.code).toBe("malformed_credentials");
    expect(malformed.headers.get("www-authenticate")).toBe('Bearer realm="api", error="invalid_token"');

    const wrongSecret = await userToken(newOrganizationId(), { secret: "another-secret-of-at-least-32-bytes-long" });
    const badToken = await call(baseUrl, "GET", "/v1/api-keys", { headers: bearer(wrongSecret) });
    expect(badToken.status).toBe(401);
    expect(badToken.body).toMatchObject({ detail: "Invalid API credentials!", code: "invalid_credentials" });

    const expired = await call(baseUrl, "GET", "/v1/api-keys", {
      headers: bearer(await userToken(newOrganizationId(), { expiresIn: "-1m" })),
    });
    expect(expired.status).toBe(401);

    const basic = await call(baseUrl, "GET", "/v1/api-keys", { headers: { authorization: "Basic dXNlcjpwYXNz" } });
    expect(basic.status).toBe(401);
    expect(basic.body.code).toBe("malformed_credentials");
  });

  it("lets api_keys:read read only, api_keys:write and unscoped keys read and write, other scopes nothing", async () => {
    const org = await organizationWithKeys();
    const target = org.target.id;
    const routes = {
      list: ["GET", "/v1/api-keys", undefined],
      get: ["GET", `/v1/api-keys/${target}`, undefined],
      create: ["POST", "/v1/api-keys", { name: "made by a key", scopes: ["send"] }],
      update: ["PATCH", `/v1/api-keys/${target}`, { name: "renamed by a key" }],
      roll: ["POST", `/v1/api-keys/${target}/roll`, { gracePeriodSeconds: 3600 }],
    } as const;
    const expectations: [string, { key: string }, Record<keyof typeof routes, number>][] = [
      ["api_keys:read", org.read, { list: 200, get: 200, create: 403, update: 403, roll: 403 }],
      ["api_keys:write", org.write, { list: 200, get: 200, create: 201, update: 200, roll: 201 }],
      ["unscoped", org.unscoped, { list: 200, get: 200, create: 201, update: 200, roll: 201 }],
      ["send, read", org.other, { list: 403, get: 403, create: 403, update: 403, roll: 403 }],
    ];
    for (const [label, key, want] of expectations) {
      for (const [name, [method, path, json]] of Object.entries(routes)) {
        const reply = await call(baseUrl, method, path, { headers: bearer(key.key), ...(json ? { json } : {}) });
        expect(reply.status, `${label}: ${name}`).toBe(want[name as keyof typeof routes]);
        if (reply.status === 403) {
          expect(reply.headers.get("content-type")).toBe(problemType);
          expect(reply.body).toMatchObject({ status: 403, title: "Forbidden", code: "insufficient_scope" });
          const scope = method === "GET" ? "api_keys:read" : "api_keys:write";
          expect(reply.headers.get("www-authenticate")).toContain(`scope="${scope}"`);
        }
      }
    }
    const reader = client(baseUrl, bearer(org.read.key));
    expect((await reader("DELETE", `/v1/api-keys/${target}`)).status).toBe(403);
    const writer = client(baseUrl, bearer(org.write.key));
    expect((await writer("DELETE", `/v1/api-keys/${target}`)).body.active).toBe(false);
  });

  it("accepts the x-api-key + x-sender-id style; the organization is always the credential's", async () => {
    const org = await organizationWithKeys();
    const sent = { "x-api-key": org.write.key, "x-sender-id": org.organizationId };
    const created = await call(baseUrl, "POST", "/v1/api-keys", { headers: sent, json: { name: "via Sent style", scopes: ["send"] } });
    expect(created.status).toBe(201);
    expect(created.body.organizationId).toBe(org.organizationId);
    const listed = await call(baseUrl, "GET", "/v1/api-keys", { headers: sent });
    expect(listed.body).toHaveLength(6);

    const wrongSender = await call(baseUrl, "GET", "/v1/api-keys", {
      headers: { "x-api-key": org.write.key, "x-sender-id": newOrganizationId() },
    });
    expect(wrongSender.status).toBe(401);
    expect(wrongSender.body.detail).toBe("Invalid API credentials!");

    // Another organization's user sees none of these keys.
    const stranger = client(baseUrl, bearer(await userToken(newOrganizationId())));
    expect((await stranger("GET", "/v1/api-keys")).body).toEqual([]);
    expect((await stranger("GET", `/v1/api-keys/${created.body.id}`)).status).toBe(404);

    // Two different credentials are ambiguous.
    const ambiguous = await call(baseUrl, "GET", "/v1/api-keys", {
      headers: { ...bearer(org.read.key), "x-api-key": org.write.key, "x-sender-id": org.organizationId },
    });
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.code).toBe("ambiguous_credentials");
  });

  it("answers 429 with the verdict's Retry-After and RateLimit headers once the organization's pool is spent", async () => {
    const organizationId = newOrganizationId();
    const { organizations } = service.clients("connect");
    await organizations.upsertOrganization({
      organization: create(OrganizationSchema, { id: organizationId, rateLimit: { limit: 3, window: durationFromMs(3_600_000) } }),
    });
    const user = client(baseUrl, bearer(await userToken(organizationId)));
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const reply = await user("GET", "/v1/api-keys");
      expect(reply.status).toBe(200);
      expect(reply.headers.get("ratelimit-limit")).toBe("3");
      remaining.push(reply.headers.get("ratelimit-remaining"));
    }
    expect(remaining).toEqual(["2", "1", "0"]);

    const limited = await user("POST", "/v1/api-keys", { json: { name: "one too many" } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("content-type")).toBe(problemType);
    expect(limited.body).toMatchObject({ status: 429, title: "Too Many Requests", code: "rate_limited" });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    // Nothing was created, and the pool stays spent.
    expect((await user("GET", "/v1/api-keys")).status).toBe(429);
  });

  it("denies a suspended organization, and honours workspaces for master keys", async () => {
    const organizationId = newOrganizationId();
    const { organizations } = service.clients("connect");
    await organizations.upsertOrganization({ organization: create(OrganizationSchema, { id: organizationId, workspaces: ["ws-a"] }) });
    const user = client(baseUrl, bearer(await userToken(organizationId)));
    const master = (await user("POST", "/v1/api-keys", { json: { name: "master", kind: "master" } })).body;

    const noWorkspace = await call(baseUrl, "GET", "/v1/api-keys", { headers: bearer(master.key) });
    expect(noWorkspace.status).toBe(400);
    expect(noWorkspace.body.code).toBe("workspace_required");
    const inWorkspace = await call(baseUrl, "GET", "/v1/api-keys", { headers: { ...bearer(master.key), "x-workspace-id": "ws-a" } });
    expect(inWorkspace.status).toBe(200);

    await organizations.suspendOrganization({ id: organizationId });
    const suspended = await user("GET", "/v1/api-keys");
    expect(suspended.status).toBe(403);
    expect(suspended.body.code).toBe("organization_suspended");
  });

  it("answers up to 1000 headers, more with a 431 problem, and oversized headers with 431", async () => {
    const org = await organizationWithKeys();
    const junk = (count: number) => Array.from({ length: count }, (_, i) => `h${i}: 1\r\n`).join("");
    const port = service.keyward.server.httpPort;
    const request = (headers: string) => tcpExchange(port, [`GET /v1/api-keys HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`]);
    const key = `Authorization: Bearer ${org.unscoped.key}\r\n`;

    const fine = await request(key + junk(900));
    expect(fine.status).toBe(200);
    expect(JSON.parse(fine.body)).toHaveLength(5);
    // Node refuses more than 1000 headers before any of our code runs.
    for (const many of [key + junk(1500), junk(1500) + key]) {
      const reply = await request(many);
      expect(reply.status).toBe(431);
      expect(reply.headers["content-type"]).toBe(problemType);
      expect(JSON.parse(reply.body)).toMatchObject({ status: 431, code: "headers_too_large" });
    }

    const huge = await rawRequest(baseUrl, "GET", "/v1/api-keys", { authorization: `Bearer ${"a".repeat(20_000)}` });
    expect(huge.status).toBe(431);

    expect((await call(baseUrl, "GET", "/healthz")).status).toBe(200);
  });
});
