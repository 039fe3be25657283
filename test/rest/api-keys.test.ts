/**
 * The dashboard's REST API for API keys over real HTTP, against the real
 * service on the real MongoDB-compatible store: the lifecycle, the shapes,
 * paging, and organization isolation.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEY_PATTERN } from "../../src/domain/key-format.js";
import { METADATA_LIMITS } from "../../src/domain/validation.js";
import type { TestKeyward } from "../support/keyward.js";
import { API_KEY_FIELDS, bearer, call, client, newOrganizationId, startRestKeyward, userToken } from "./support.js";

let service: TestKeyward;
let baseUrl: string;

beforeAll(async () => {
  service = await startRestKeyward();
  baseUrl = service.keyward.server.httpUrl;
});
afterAll(async () => {
  await service?.stop();
});

async function signedIn(organizationId = newOrganizationId()) {
  return { organizationId, api: client(baseUrl, bearer(await userToken(organizationId))) };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("/v1/api-keys", () => {
  it("creates a key: 201, every field, the plaintext key once, a Location", async () => {
    const { organizationId, api } = await signedIn();
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const created = await api("POST", "/v1/api-keys", {
      json: { name: "  Production API Key ", mode: "test", scopes: ["send", "read"], expiresAt, workspaceId: "ws-1" },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("content-type")).toBe("application/json");
    expect(created.headers.get("cache-control")).toBe("no-store");
    const key = created.body;
    expect(Object.keys(key).sort()).toEqual([...API_KEY_FIELDS, "key"].sort());
    expect(key).toMatchObject({
      name: "Production API Key",
      organizationId,
      active: true,
      enabled: true,
      mode: "test",
      kind: "standard",
      scopes: ["send", "read"],
      workspaceId: "ws-1",
      expiresAt,
      lastUsedAt: null,
    });
    expect(key.key).toMatch(KEY_PATTERN);
    expect(key.key.startsWith("sk_test_")).toBe(true);
    expect(key.hint).toBe(`${key.key.slice(0, 12)}…${key.key.slice(-4)}`);
    expect(key.createdAt).toMatch(ISO);
    expect(key.updatedAt).toMatch(ISO);
    expect(created.headers.get("location")).toBe(`/v1/api-keys/${key.id}`);

    // Defaults: live, standard, unscoped, no workspace, no expiry.
    const plain = await api("POST", "/v1/api-keys", { json: { name: "Defaults" } });
    expect(plain.status).toBe(201);
    expect(plain.body).toMatchObject({ mode: "live", kind: "standard", scopes: [], workspaceId: null, expiresAt: null });
    expect(plain.body.key.startsWith("sk_live_")).toBe(true);

    const master = await api("POST", "/v1/api-keys", { json: { name: "Master", kind: "master", workspaceId: null } });
    expect(master.status).toBe(201);
    expect(master.body).toMatchObject({ kind: "master", workspaceId: null });

    // Get and list never show the secret.
    const got = await api("GET", `/v1/api-keys/${key.id}`);
    expect(got.status).toBe(200);
    const { key: plaintext, ...withoutKey } = key;
    expect(got.body).toEqual(withoutKey);
    expect(got.text).not.toContain(plaintext);
    const listed = await api("GET", "/v1/api-keys");
    expect(listed.status).toBe(200);
    expect(Array.isArray(listed.body)).toBe(true);
    expect(listed.body).toHaveLength(3);
    expect(listed.text).not.toContain(plaintext);
    for (const item of listed.body) expect(Object.keys(item).sort()).toEqual(API_KEY_FIELDS);
  });

  it("lists newest first, paged by limit and cursor, the next page in Link and X-Next-Cursor", async () => {
    const { api } = await signedIn();
    const names: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await api("POST", "/v1/api-keys", { json: { name: `k${i}`, mode: i % 2 ? "test" : "live" } });
      expect(created.status).toBe(201);
      names.unshift(`k${i}`);
    }

    const seen: string[] = [];
    let path: string | null = "/v1/api-keys?limit=2";
    let pages = 0;
    while (path) {
      const page = await api("GET", path);
      expect(page.status).toBe(200);
      expect(page.body.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.map((k: { name: string }) => k.name));
      pages++;
      const link = page.headers.get("link");
      const cursor = page.headers.get("x-next-cursor");
      if (link === null) {
        expect(cursor).toBeNull();
        path = null;
      } else {
        const match = /^<([^>]+)>; rel="next"$/.exec(link);
        expect(match).not.toBeNull();
        path = match?.[1] ?? null;
        expect(new URL(path ?? "", baseUrl).searchParams.get("cursor")).toBe(cursor);
      }
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(names);

    // Default page size 20; the maximum 100.
    expect((await api("GET", "/v1/api-keys")).body).toHaveLength(5);
    expect((await api("GET", "/v1/api-keys?limit=100")).status).toBe(200);

    // Filters, kept in the next link.
    const live = await api("GET", "/v1/api-keys?mode=live&limit=2");
    expect(live.body.map((k: { mode: string }) => k.mode)).toEqual(["live", "live"]);
    expect(live.headers.get("link")).toContain("mode=live");
    const rest = await api("GET", /^<([^>]+)>/.exec(live.headers.get("link") ?? "")?.[1] ?? "");
    expect(rest.body.map((k: { name: string }) => k.name)).toEqual(["k0"]);
    expect((await api("GET", "/v1/api-keys?active=false")).body).toEqual([]);
  });

  it("updates name, scopes and enabled; a disabled key stops authenticating until enabled", async () => {
    const { api } = await signedIn();
    const created = (await api("POST", "/v1/api-keys", { json: { name: "Before", scopes: ["api_keys:read"] } })).body;

    const renamed = await api("PATCH", `/v1/api-keys/${created.id}`, { json: { name: " After ", scopes: ["api_keys:read", "send"] } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: created.id, name: "After", scopes: ["api_keys:read", "send"], enabled: true });
    expect(Date.parse(renamed.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));

    const asKey = client(baseUrl, bearer(created.key));
    expect((await asKey("GET", "/v1/api-keys")).status).toBe(200);

    const disabled = await api("PATCH", `/v1/api-keys/${created.id}`, { json: { enabled: false } });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ enabled: false, active: true });
    const denied = await asKey("GET", "/v1/api-keys");
    expect(denied.status).toBe(401);
    expect(denied.body.code).toBe("key_disabled");

    expect((await api("PATCH", `/v1/api-keys/${created.id}`, { json: { enabled: true } })).body.enabled).toBe(true);
    expect((await asKey("GET", "/v1/api-keys")).status).toBe(200);
  });

  it("stores metadata on create and PATCH (which replaces it), within its bounds", async () => {
    const { api } = await signedIn();
    const { maxEntries, maxKeyLength, maxValueLength } = METADATA_LIMITS;
    const created = await api("POST", "/v1/api-keys", { json: { name: "tagged", metadata: { team: "core", "cost-center": "42" } } });
    expect(created.status).toBe(201);
    expect(created.body.metadata).toEqual({ team: "core", "cost-center": "42" });
    expect((await api("GET", `/v1/api-keys/${created.body.id}`)).body.metadata).toEqual({ team: "core", "cost-center": "42" });
    const patched = await api("PATCH", `/v1/api-keys/${created.body.id}`, { json: { metadata: { team: "edge" } } });
    expect(patched.body.metadata).toEqual({ team: "edge" });
    expect((await api("POST", "/v1/api-keys", { json: { name: "plain" } })).body.metadata).toEqual({});

    // The largest metadata allowed fits in a request body.
    const largest = Object.fromEntries(
      Array.from({ length: maxEntries }, (_, i) => [`${i}`.padStart(maxKeyLength, "k"), "v".repeat(maxValueLength)]),
    );
    const big = await api("POST", "/v1/api-keys", { json: { name: "largest", metadata: largest } });
    expect(big.status, big.text).toBe(201);
    expect(big.body.metadata).toEqual(largest);

    const tooMany = Object.fromEntries(Array.from({ length: maxEntries + 1 }, (_, i) => [`k${i}`, "v"]));
    for (const metadata of [
      tooMany,
      { ["k".repeat(maxKeyLength + 1)]: "v" },
      { team: "v".repeat(maxValueLength + 1) },
      { "": "v" },
      { _private: "v" },
      { "a.b": "v" },
      { $gt: "" },
      { team: 42 },
      { team: null },
      ["team"],
      "team=core",
    ]) {
      for (const [method, path] of [["POST", "/v1/api-keys"], ["PATCH", `/v1/api-keys/${created.body.id}`]] as const) {
        const reply = await api(method, path, { json: { name: "bad", metadata } });
        expect(reply.status, `${method} ${JSON.stringify(metadata).slice(0, 60)}`).toBe(400);
        expect(reply.body.detail).toMatch(/^metadata/);
      }
    }
    expect((await api("GET", `/v1/api-keys/${created.body.id}`)).body.metadata).toEqual({ team: "edge" });
  });

  it("deletes (revokes) a key: 200 with active false; it stops working; it cannot be changed", async () => {
    const { api } = await signedIn();
    const created = (await api("POST", "/v1/api-keys", { json: { name: "Doomed" } })).body;
    const asKey = client(baseUrl, bearer(created.key));
    expect((await asKey("GET", `/v1/api-keys/${created.id}`)).status).toBe(200);

    const deleted = await api("DELETE", `/v1/api-keys/${created.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ id: created.id, name: "Doomed", active: false });
    expect(Object.keys(deleted.body).sort()).toEqual(API_KEY_FIELDS);

    const revoked = await asKey("GET", "/v1/api-keys");
    expect(revoked.status).toBe(401);
    expect(revoked.body.code).toBe("key_revoked");

    // Still there, inactive; deleting again answers it unchanged.
    expect((await api("GET", `/v1/api-keys/${created.id}`)).body.active).toBe(false);
    expect((await api("DELETE", `/v1/api-keys/${created.id}`)).body).toEqual(deleted.body);
    expect((await api("GET", "/v1/api-keys?active=false")).body.map((k: { id: string }) => k.id)).toEqual([created.id]);

    const patch = await api("PATCH", `/v1/api-keys/${created.id}`, { json: { name: "Zombie" } });
    expect(patch.status).toBe(409);
    expect(patch.headers.get("content-type")).toBe("application/problem+json");
    const roll = await api("POST", `/v1/api-keys/${created.id}/roll`);
    expect(roll.status).toBe(409);
  });

  it("rolls a key: 201 with a new key; the old one works through its grace period only", async () => {
    const { api } = await signedIn();
    const created = (await api("POST", "/v1/api-keys", { json: { name: "Rolling", mode: "test", scopes: ["api_keys:read"] } })).body;

    const rolled = await api("POST", `/v1/api-keys/${created.id}/roll`, { json: { gracePeriodSeconds: 3600 } });
    expect(rolled.status).toBe(201);
    expect(rolled.body).toMatchObject({ id: created.id, name: "Rolling", mode: "test", scopes: ["api_keys:read"], active: true });
    expect(rolled.body.key).toMatch(KEY_PATTERN);
    expect(rolled.body.key.startsWith("sk_test_")).toBe(true);
    expect(rolled.body.key).not.toBe(created.key);
    expect(rolled.body.hint).not.toBe(created.hint);
    expect(rolled.headers.get("location")).toBe(`/v1/api-keys/${created.id}`);
    expect((await call(baseUrl, "GET", "/v1/api-keys", { headers: bearer(rolled.body.key) })).status).toBe(200);
    expect((await call(baseUrl, "GET", "/v1/api-keys", { headers: bearer(created.key) })).status).toBe(200);

    // No body: grace period 0, the previous secret stops at once.
    const again = await call(baseUrl, "POST", `/v1/api-keys/${created.id}/roll`, {
      headers: bearer(await userToken(created.organizationId)),
    });
    expect(again.status).toBe(201);
    expect((await call(baseUrl, "GET", "/v1/api-keys", { headers: bearer(rolled.body.key) })).status).toBe(401);
    expect((await call(baseUrl, "GET", "/v1/api-keys", { headers: bearer(created.key) })).status).toBe(401);
    expect((await call(baseUrl, "GET", "/v1/api-keys", { headers: bearer(again.body.key) })).status).toBe(200);

    const tooLong = await api("POST", `/v1/api-keys/${created.id}/roll`, { json: { gracePeriodSeconds: 30 * 86400 + 1 } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.detail).toContain("gracePeriodSeconds");
  });

  it("isolates organizations: another organization's key is 404 for every route, and never listed", async () => {
    const mine = await signedIn();
    const theirs = await signedIn();
    const theirKey = (await theirs.api("POST", "/v1/api-keys", { json: { name: "Theirs" } })).body;
    const missing = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    for (const id of [theirKey.id, missing]) {
      for (const [method, path, json] of [
        ["GET", `/v1/api-keys/${id}`, undefined],
        ["PATCH", `/v1/api-keys/${id}`, { name: "Mine now" }],
        ["DELETE", `/v1/api-keys/${id}`, undefined],
        ["POST", `/v1/api-keys/${id}/roll`, undefined],
      ] as const) {
        const reply = await mine.api(method, path, json ? { json } : {});
        expect(reply.status, `${method} ${path}`).toBe(404);
        expect(reply.headers.get("content-type")).toBe("application/problem+json");
        expect(reply.body).toEqual({ type: "about:blank", title: "Not Found", status: 404, detail: "api key not found", code: "not_found" });
      }
    }
    expect((await mine.api("GET", "/v1/api-keys")).body).toEqual([]);
    // Untouched.
    expect((await theirs.api("GET", `/v1/api-keys/${theirKey.id}`)).body).toMatchObject({ name: "Theirs", active: true });
  });
});
