/**
 * Least privilege on /v1/api-keys over real HTTP, against the real service on
 * the real MongoDB-compatible store: every escalation path of issue 11 is
 * refused (403 insufficient_privilege) with storage unchanged and the refusal
 * in the audit trail; the narrower paths, unscoped keys and users go through
 * and are recorded as allowed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEventJson } from "../../src/rest/audit-event-json.js";
import type { TestKeyward } from "../support/keyward.js";
import type { DashboardOrganization, IssuedKeyJson, JsonReply } from "./support.js";
import { dashboardOrganization, startRestKeyward } from "./support.js";

let service: TestKeyward;

beforeAll(async () => {
  service = await startRestKeyward();
});
afterAll(async () => {
  await service?.stop();
});

type Api = ReturnType<DashboardOrganization["as"]>;

/** The actor's key: api_keys:write, send and read, live, standard, unbound, unless told. */
const WRITER = { scopes: ["api_keys:write", "send", "read"] };

interface Escalation {
  what: string;
  actor?: Record<string, unknown>;
  /** The key acted on, made by the user; "self": the actor's own key; none: a create. */
  target?: Record<string, unknown> | "self";
  action: string;
  request: (api: Api, targetId: string) => Promise<JsonReply>;
  /** Part of the refusal's reason. */
  reason: string;
}

const create = (json: Record<string, unknown>) => (api: Api) => api("POST", "/v1/api-keys", { json: { name: "minted", ...json } });
const patch = (json: Record<string, unknown>) => (api: Api, id: string) => api("PATCH", `/v1/api-keys/${id}`, { json });
const roll = (api: Api, id: string) => api("POST", `/v1/api-keys/${id}/roll`, { json: { gracePeriodSeconds: 3600 } });
const revoke = (api: Api, id: string) => api("DELETE", `/v1/api-keys/${id}`);

const ESCALATIONS: Escalation[] = [
  { what: "an api_keys:write-only key creating an unscoped key", actor: { scopes: ["api_keys:write"] }, action: "api_key.create", request: create({}), reason: "unscoped" },
  { what: "a key creating a key with a scope it lacks", action: "api_key.create", request: create({ scopes: ["send", "cancel"] }), reason: "cancel" },
  { what: "a standard key creating a master key", action: "api_key.create", request: create({ scopes: ["send"], kind: "master" }), reason: "master" },
  { what: "a test key creating a live key", actor: { ...WRITER, mode: "test" }, action: "api_key.create", request: create({ scopes: ["send"] }), reason: "test key" },
  { what: "a ws-1 key creating a key for ws-2", actor: { ...WRITER, workspaceId: "ws-1" }, action: "api_key.create", request: create({ scopes: ["send"], workspaceId: "ws-2" }), reason: "workspace ws-1" },
  { what: "a ws-1 key creating a key for every workspace", actor: { ...WRITER, workspaceId: "ws-1" }, action: "api_key.create", request: create({ scopes: ["send"] }), reason: "workspace ws-1" },
  { what: "a key PATCHing its own scopes upward", target: "self", action: "api_key.update", request: patch({ scopes: [...WRITER.scopes, "cancel"] }), reason: "cancel" },
  { what: "a key making itself unscoped", target: "self", action: "api_key.update", request: patch({ scopes: [] }), reason: "unscoped" },
  { what: "a key rolling an unscoped key (to read its secret)", target: { scopes: [] }, action: "api_key.roll", request: roll, reason: "unscoped" },
  { what: "a key rolling a wider key", target: { scopes: ["send", "cancel"] }, action: "api_key.roll", request: roll, reason: "cancel" },
  { what: "a key revoking an unscoped key", target: { scopes: [] }, action: "api_key.revoke", request: revoke, reason: "unscoped" },
  { what: "a key revoking a master key", target: { scopes: ["send"], kind: "master" }, action: "api_key.revoke", request: revoke, reason: "master" },
  { what: "a key renaming a wider key", target: { scopes: ["send", "cancel"] }, action: "api_key.update", request: patch({ name: "mine now" }), reason: "cancel" },
  { what: "a key disabling an unscoped key", target: { scopes: [] }, action: "api_key.disable", request: patch({ enabled: false }), reason: "unscoped" },
  { what: "a key narrowing a wider key into its own grant", target: { scopes: ["send", "cancel"] }, action: "api_key.update", request: patch({ scopes: ["send"] }), reason: "cancel" },
  { what: "a test key touching a live key", actor: { ...WRITER, mode: "test" }, target: { scopes: ["send"] }, action: "api_key.update", request: patch({ metadata: { owner: "test" } }), reason: "test key" },
  { what: "a ws-1 key rolling a ws-2 key", actor: { ...WRITER, workspaceId: "ws-1" }, target: { scopes: ["send"], workspaceId: "ws-2" }, action: "api_key.roll", request: roll, reason: "workspace ws-1" },

  // IP allowlists (the REST client is 127.0.0.1, inside every actor's allowlist here).
  { what: "a key with an allowlist creating a key usable from any address", actor: { ...WRITER, ipAllowlist: ["127.0.0.0/8"] }, action: "api_key.create", request: create({ scopes: ["send"] }), reason: "usable from any address" },
  { what: "a key with an allowlist creating a key allowed from elsewhere", actor: { ...WRITER, ipAllowlist: ["127.0.0.0/8"] }, action: "api_key.create", request: create({ scopes: ["send"], ipAllowlist: ["127.0.0.1", "192.0.2.1"] }), reason: "outside its own IP allowlist" },
  { what: "a key lifting another key's allowlist", actor: { ...WRITER, ipAllowlist: ["127.0.0.0/8"] }, target: { scopes: ["send"], ipAllowlist: ["127.0.0.1"] }, action: "api_key.update", request: patch({ ipAllowlist: [] }), reason: "usable from any address" },
  { what: "a key widening another key's allowlist past its own", actor: { ...WRITER, ipAllowlist: ["127.0.0.0/8"] }, target: { scopes: ["send"], ipAllowlist: ["127.0.0.1"] }, action: "api_key.update", request: patch({ ipAllowlist: ["0.0.0.0/0"] }), reason: "outside its own IP allowlist" },
  { what: "a key lifting its own allowlist", actor: { ...WRITER, ipAllowlist: ["127.0.0.0/8"] }, target: "self", action: "api_key.update", request: patch({ ipAllowlist: [] }), reason: "usable from any address" },
  { what: "a key with an allowlist rolling a key usable anywhere", actor: { ...WRITER, ipAllowlist: ["127.0.0.0/8"] }, target: { scopes: ["send"] }, action: "api_key.roll", request: roll, reason: "usable from any address" },

  // Credits (each call of the actor spends one of its own).
  { what: "a key with credits creating an unlimited key", actor: { ...WRITER, credits: { remaining: 100 } }, action: "api_key.create", request: create({ scopes: ["send"] }), reason: "unlimited credits" },
  { what: "a key with credits creating a key with more", actor: { ...WRITER, credits: { remaining: 100 } }, action: "api_key.create", request: create({ scopes: ["send"], credits: { remaining: 1000 } }), reason: "more credits (1000) than it has (99)" },
  { what: "a key with credits creating a key that refills faster", actor: { ...WRITER, credits: { remaining: 100, refill: { interval: "monthly", amount: 100 } } }, action: "api_key.create", request: create({ scopes: ["send"], credits: { remaining: 1, refill: { interval: "daily", amount: 100 } } }), reason: "daily refill" },
  { what: "a key raising another key's credits past its own", actor: { ...WRITER, credits: { remaining: 100 } }, target: { scopes: ["send"], credits: { remaining: 1 } }, action: "api_key.update", request: patch({ credits: { remaining: 1000 } }), reason: "more credits" },
  { what: "a key making another key unlimited", actor: { ...WRITER, credits: { remaining: 100 } }, target: { scopes: ["send"], credits: { remaining: 1 } }, action: "api_key.update", request: patch({ credits: null }), reason: "unlimited credits" },
  { what: "a key raising its own credits", actor: { ...WRITER, credits: { remaining: 100 } }, target: "self", action: "api_key.update", request: patch({ credits: { remaining: 500 } }), reason: "more credits" },
  { what: "a key with credits revoking an unlimited key", actor: { ...WRITER, credits: { remaining: 100 } }, target: { scopes: ["send"] }, action: "api_key.revoke", request: revoke, reason: "unlimited credits" },
];

/** The key as it is after one request of the key `actorId`: one credit fewer when it is that key and has credits. */
function spentOne(key: unknown, actorId: string): unknown {
  const { id, credits } = key as { id: string; credits: { remaining: number } | null };
  return id === actorId && credits ? { ...(key as object), credits: { ...credits, remaining: credits.remaining - 1 } } : key;
}

/** The one event the actor's last request left with this action, about this target (when known). */
async function lastEvent(org: DashboardOrganization, actor: IssuedKeyJson, action: string): Promise<AuditEventJson> {
  const events = await org.events(`actorId=${actor.id}&action=${action}`);
  expect(events).toHaveLength(1);
  return events[0] as AuditEventJson;
}

describe("escalation through /v1/api-keys is refused, changes nothing, and is recorded", () => {
  for (const escalation of ESCALATIONS) {
    it(`refuses ${escalation.what}`, async () => {
      const org = await dashboardOrganization(service);
      const actor = await org.make(escalation.actor ?? WRITER);
      const target = escalation.target === "self" ? actor : escalation.target ? await org.make(escalation.target) : null;
      const before = await org.keys();

      const reply = await escalation.request(org.as(actor), target?.id ?? "");
      expect(reply.status, reply.text).toBe(403);
      expect(reply.headers.get("content-type")).toBe("application/problem+json");
      expect(reply.body).toMatchObject({ status: 403, title: "Forbidden", code: "insufficient_privilege" });
      expect(reply.body.detail).toContain(escalation.reason);
      expect(reply.text).not.toMatch(/sk_(live|test)_/);

      // Nothing changed but the credit the actor's own (allowed) request spent, when it has credits.
      expect(await org.keys()).toEqual(before.map((key) => spentOne(key, actor.id)));
      const event = await lastEvent(org, actor, escalation.action);
      expect(event).toMatchObject({
        organizationId: org.organizationId,
        outcome: "denied",
        actor: { type: "api_key", id: actor.id },
        target: { type: "api_key" },
        reason: reply.body.detail,
        requestId: reply.headers.get("x-request-id"),
      });
      if (target) expect(event.target.id).toBe(target.id);
      // A refused create names the key it would have made; that key does not exist.
      else expect(before.map((k) => (k as { id: string }).id)).not.toContain(event.target.id);
    });
  }

  it("leaves a refused roll's target working with its old secret only", async () => {
    const org = await dashboardOrganization(service);
    const actor = await org.make(WRITER);
    const unscoped = await org.make({ scopes: [] });
    expect((await roll(org.as(actor), unscoped.id)).status).toBe(403);
    expect((await org.as(unscoped)("GET", "/v1/api-keys")).status).toBe(200);
    const [after] = (await org.keys()).filter((k) => (k as { id: string }).id === unscoped.id);
    expect(after).toMatchObject({ hint: unscoped.hint, active: true });
  });
});

describe("allowed management is recorded with its changes", () => {
  it("lets a writer create, change, disable, roll and revoke narrower keys", async () => {
    const org = await dashboardOrganization(service);
    const actor = await org.make(WRITER);
    const api = org.as(actor);

    const created = await api("POST", "/v1/api-keys", { json: { name: "narrow", scopes: ["send"], mode: "test", metadata: { team: "core" } } });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;
    const renamed = await api("PATCH", `/v1/api-keys/${id}`, { json: { name: "narrower", scopes: ["read"], metadata: { team: "edge" } } });
    expect(renamed.status, renamed.text).toBe(200);
    expect((await api("PATCH", `/v1/api-keys/${id}`, { json: { enabled: false } })).status).toBe(200);
    expect((await api("PATCH", `/v1/api-keys/${id}`, { json: { enabled: true } })).status).toBe(200);
    expect((await api("POST", `/v1/api-keys/${id}/roll`)).status).toBe(201);
    expect((await api("DELETE", `/v1/api-keys/${id}`)).status).toBe(200);
    // Its own key, with the same grant: rolling it is within its grant.
    expect((await api("POST", `/v1/api-keys/${actor.id}/roll`)).status).toBe(201);

    const events = await org.events(`targetId=${id}`);
    expect(events.map((e) => [e.action, e.outcome])).toEqual([
      ["api_key.revoke", "allowed"],
      ["api_key.roll", "allowed"],
      ["api_key.enable", "allowed"],
      ["api_key.disable", "allowed"],
      ["api_key.update", "allowed"],
      ["api_key.create", "allowed"],
    ]);
    for (const event of events) expect(event.actor).toEqual({ type: "api_key", id: actor.id });
    const [revoked, rolled, enabled, disabled, updated, made] = events as AuditEventJson[];
    expect(made?.changes).toMatchObject({
      name: { old: null, new: "narrow" },
      mode: { old: null, new: "test" },
      kind: { old: null, new: "standard" },
      scopes: { old: null, new: ["send"] },
      metadata: { old: null, new: { team: "core" } },
      workspaceId: { old: null, new: null },
    });
    expect(updated?.changes).toEqual({
      name: { old: "narrow", new: "narrower" },
      scopes: { old: ["send"], new: ["read"] },
      metadata: { old: { team: "core" }, new: { team: "edge" } },
    });
    expect(disabled?.changes).toEqual({ enabled: { old: true, new: false } });
    expect(enabled?.changes).toEqual({ enabled: { old: false, new: true } });
    expect(Object.keys(rolled?.changes ?? {})).toEqual(["previousSecretExpiresAt"]);
    expect(revoked?.changes).toEqual({ active: { old: true, new: false } });
  });

  it("lets test, workspace and master keys manage keys of their own kind", async () => {
    const org = await dashboardOrganization(service);
    const cases: [Record<string, unknown>, Record<string, string>, Record<string, unknown>][] = [
      [{ ...WRITER, mode: "test" }, {}, { scopes: ["send"], mode: "test" }],
      [{ ...WRITER, workspaceId: "ws-1" }, {}, { scopes: ["send"], workspaceId: "ws-1" }],
      [{ ...WRITER, kind: "master" }, { "x-workspace-id": "ws-2" }, { scopes: ["send"], kind: "master" }],
      [WRITER, {}, { scopes: ["send"], mode: "test", workspaceId: "ws-2" }],
    ];
    for (const [actorSpec, headers, json] of cases) {
      const actor = await org.make(actorSpec);
      const reply = await org.as(actor, headers)("POST", "/v1/api-keys", { json: { name: "mine", ...json } });
      expect(reply.status, `${JSON.stringify(actorSpec)} → ${JSON.stringify(json)}: ${reply.text}`).toBe(201);
      expect(reply.body).toMatchObject(json);
      expect(await lastEvent(org, actor, "api_key.create")).toMatchObject({ outcome: "allowed", target: { id: reply.body.id } });
    }
  });

  it("lets a key with an allowlist and credits manage keys within them, recording the changes", async () => {
    const org = await dashboardOrganization(service);
    const actor = await org.make({ ...WRITER, ipAllowlist: ["127.0.0.0/8", "10.0.0.0/8"], credits: { remaining: 100, refill: { interval: "daily", amount: 100 } } });
    const api = org.as(actor);
    const created = await api("POST", "/v1/api-keys", {
      json: { name: "narrow", scopes: ["send"], ipAllowlist: ["10.1.0.0/16"], credits: { remaining: 10, refill: { interval: "monthly", amount: 50 } } },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;
    const patched = await api("PATCH", `/v1/api-keys/${id}`, { json: { ipAllowlist: ["127.0.0.1", "10.2.3.4"], credits: { remaining: 90 } } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ ipAllowlist: ["127.0.0.1", "10.2.3.4"], credits: { remaining: 90, refill: null } });

    const [updated, made] = (await org.events(`targetId=${id}`)) as AuditEventJson[];
    expect(made?.changes).toMatchObject({
      ipAllowlist: { old: null, new: ["10.1.0.0/16"] },
      credits: { old: null, new: { remaining: 10, refill: { interval: "monthly", amount: 50 } } },
    });
    expect(updated?.changes).toEqual({
      ipAllowlist: { old: ["10.1.0.0/16"], new: ["127.0.0.1", "10.2.3.4"] },
      credits: { old: { remaining: 10, refill: { interval: "monthly", amount: 50 } }, new: { remaining: 90, refill: null } },
    });
  });

  it("gives unscoped keys and users full access to their organization", async () => {
    const org = await dashboardOrganization(service);
    const unscoped = await org.make({ scopes: [] });
    const asKey = await org.as(unscoped)("POST", "/v1/api-keys", { json: { name: "all", kind: "master" } });
    expect(asKey.status, asKey.text).toBe(201);
    expect(asKey.body).toMatchObject({ scopes: [], kind: "master" });
    expect((await org.as(unscoped)("POST", `/v1/api-keys/${asKey.body.id}/roll`)).status).toBe(201);

    const asUser = await org.user("POST", "/v1/api-keys", { json: { name: "all", kind: "master", mode: "test" } });
    expect(asUser.status).toBe(201);
    expect((await org.user("PATCH", `/v1/api-keys/${unscoped.id}`, { json: { scopes: ["send"] } })).status).toBe(200);

    expect(await lastEvent(org, unscoped, "api_key.create")).toMatchObject({ outcome: "allowed", target: { id: asKey.body.id } });
    const byUser = await org.events(`actorId=${org.userId}`);
    expect(byUser.map((e) => [e.action, e.outcome, e.actor.type, e.target.id])).toEqual([
      ["api_key.update", "allowed", "user", unscoped.id],
      ["api_key.create", "allowed", "user", asUser.body.id],
      ["api_key.create", "allowed", "user", unscoped.id],
    ]);
  });

  it("records the caller's request id when sane, a new one otherwise, and the client's address", async () => {
    const org = await dashboardOrganization(service);
    const sane = await org.user("POST", "/v1/api-keys", { json: { name: "traced" }, headers: { "x-request-id": "trace-4f2a/7" } });
    expect(sane.headers.get("x-request-id")).toBe("trace-4f2a/7");
    for (const insane of ["has space", "x".repeat(129), "tab\there"]) {
      const reply = await org.user("POST", "/v1/api-keys", { json: { name: "untraced" }, headers: { "x-request-id": insane } });
      expect(reply.headers.get("x-request-id")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
      expect((await org.events(`targetId=${reply.body.id}`))[0]?.requestId).toBe(reply.headers.get("x-request-id"));
    }
    const [event] = await org.events(`targetId=${sane.body.id}`);
    expect(event).toMatchObject({ requestId: "trace-4f2a/7", clientIp: "127.0.0.1" });
    // Every answer carries one, errors and refusals included.
    expect((await org.user("GET", "/v1/nowhere")).headers.get("x-request-id")).toBeTruthy();
  });
});
