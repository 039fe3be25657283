/**
 * The audit trail's write guarantee, on the real service over a real
 * MongoDB-compatible store (README, "Audit trail"): the event is written
 * before the change, so no change happens without its event.
 *
 * - The event cannot be written: the action answers 503 / UNAVAILABLE and
 *   nothing changed (not even a refusal gets through as a 403).
 * - Storage stops answering between the event and the change: the action
 *   answers 503, and the event is there — for a change that may have landed
 *   anyway (here it does: the server received the write, only its answer
 *   was lost).
 */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { OrganizationStatus } from "../../gen/authn/v1/organization_pb.js";
import type { AuditLog } from "../../src/ports/audit-log.js";
import { eventually } from "../support/eventually.js";
import { newOrganization } from "../support/fixtures.js";
import { freezableProxy } from "../support/freezable-proxy.js";
import type { FreezableProxy } from "../support/freezable-proxy.js";
import type { TestKeyward } from "../support/keyward.js";
import type { DashboardOrganization } from "../rest/support.js";
import { dashboardOrganization, startRestKeyward } from "../rest/support.js";

/** What the audit log does on the next appends. */
let fault: "none" | "refuse" | "freeze-storage-after" = "none";
let proxy: FreezableProxy;
let service: TestKeyward;
let org: DashboardOrganization;

/** The real audit log, failing on demand. */
function faulty(inner: AuditLog): AuditLog {
  return {
    async append(event) {
      if (fault === "refuse") throw new Error("audit store refused the write");
      await inner.append(event);
      if (fault === "freeze-storage-after") proxy.freeze(); // storage hangs between the two writes
    },
    list: (query) => inner.list(query),
  };
}

beforeAll(async () => {
  proxy = await freezableProxy(Number(new URL(inject("mongoUri")).port));
  service = await startRestKeyward(
    { MONGODB_URI: `mongodb://127.0.0.1:${proxy.port}/`, KEYWARD_MONGODB_TIMEOUT_MS: "500" },
    { auditLog: faulty },
  );
  org = await dashboardOrganization(service);
});
beforeEach(() => {
  fault = "none";
  proxy.thaw();
});
afterAll(async () => {
  proxy?.thaw();
  await service?.stop();
  await proxy?.close();
});

function expectUnavailable(reply: { status: number; headers: Headers; body: any }): void {
  expect(reply.status).toBe(503);
  expect(reply.headers.get("content-type")).toBe("application/problem+json");
  expect(reply.headers.get("retry-after")).toBe("1");
  expect(reply.body).toMatchObject({ status: 503, code: "unavailable" });
}

describe("when the audit event cannot be written", () => {
  it("answers 503 over REST and changes nothing: create, update, roll, revoke, and even a refusal", async () => {
    const target = await org.make({ name: "target", scopes: ["send"] });
    const writer = await org.make({ name: "writer", scopes: ["api_keys:write", "send"] });
    const keysBefore = await org.keys();
    const eventsBefore = await org.events();

    fault = "refuse";
    const attempts = [
      org.user("POST", "/v1/api-keys", { json: { name: "never" } }),
      org.user("PATCH", `/v1/api-keys/${target.id}`, { json: { name: "never", enabled: false } }),
      org.user("POST", `/v1/api-keys/${target.id}/roll`),
      org.user("DELETE", `/v1/api-keys/${target.id}`),
      org.as(writer)("POST", "/v1/api-keys", { json: { name: "escalation" } }),
    ];
    for (const reply of await Promise.all(attempts)) {
      expectUnavailable(reply);
      expect(reply.body.detail).toBe("the audit trail is unavailable; nothing was changed");
      expect(reply.text).not.toMatch(/sk_(live|test)_/);
    }

    fault = "none";
    expect(await org.keys()).toEqual(keysBefore);
    expect(await org.events()).toEqual(eventsBefore);
    expect((await org.as(target)("GET", "/v1/api-keys")).status).toBe(403); // still enabled, still scoped to send only
  });

  it("answers UNAVAILABLE over RPC and changes nothing", async () => {
    const { organizations, apiKeys, auth } = service.clients("connect");
    const organizationId = await newOrganization(service.clients("connect"));
    const { apiKey, key } = await apiKeys.createApiKey({ organizationId, name: "k" });

    fault = "refuse";
    await expect(organizations.suspendOrganization({ id: organizationId })).rejects.toMatchObject({ code: Code.Unavailable });
    await expect(apiKeys.rollApiKey({ organizationId, id: apiKey?.id ?? "" })).rejects.toMatchObject({ code: Code.Unavailable });
    await expect(apiKeys.revokeApiKey({ organizationId, id: apiKey?.id ?? "" })).rejects.toMatchObject({ code: Code.Unavailable });

    fault = "none";
    expect((await organizations.getOrganization({ id: organizationId })).organization?.status).toBe(OrganizationStatus.ACTIVE);
    expect((await apiKeys.getApiKey({ organizationId, id: apiKey?.id ?? "" })).apiKey).toEqual(apiKey);
    expect((await auth.verify({ headers: [{ name: "authorization", value: `Bearer ${key}` }] })).allowed).toBe(true);
  });
});

describe("when storage stops answering between the event and the change", () => {
  it("answers 503, and the change that landed anyway has its event", async () => {
    const target = await org.make({ name: "before", scopes: ["send"] });

    fault = "freeze-storage-after";
    const reply = await org.user("PATCH", `/v1/api-keys/${target.id}`, { json: { name: "after" } });
    expectUnavailable(reply);
    fault = "none";
    proxy.thaw();

    const [event] = await org.events(`targetId=${target.id}&action=api_key.update`);
    expect(event).toMatchObject({
      outcome: "allowed",
      requestId: reply.headers.get("x-request-id"),
      changes: { name: { old: "before", new: "after" } },
    });
    // The server had the write; only its answer was lost. The trail has it.
    await eventually(async () => (await org.user("GET", `/v1/api-keys/${target.id}`)).body.name === "after");
  });
});
