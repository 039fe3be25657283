/**
 * The audit trail over RPC, against the real server and the real
 * MongoDB-compatible store: organization and key management by service tokens
 * is recorded (which token, which request), and AuditService/ListAuditEvents
 * reads it — paged, filtered, one organization at a time.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, FieldMaskSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, createClient } from "@connectrpc/connect";
import type { Client } from "@connectrpc/connect";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorType, AuditOutcome, AuditService, TargetType } from "../../gen/authn/v1/audit_pb.js";
import type { AuditEvent } from "../../gen/authn/v1/audit_pb.js";
import { OrganizationSchema } from "../../gen/authn/v1/organization_pb.js";
import { insufficientPrivilege } from "../../src/domain/errors.js";
import { toConnectError } from "../../src/rpc/error-mapping.js";
import { PROTOCOLS, startTestKeyward, transportFor } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";

const TOKENS = ["svc-token-audit-aaaaaaaaaaaa", "svc-token-audit-bbbbbbbbbbbb"];
let service: TestKeyward;

beforeAll(async () => {
  service = await startTestKeyward({ env: { KEYWARD_INTERNAL_TOKENS: TOKENS.join(",") } });
});
afterAll(() => service?.stop());

function auditClient(protocol: (typeof PROTOCOLS)[number], token = TOKENS[0]): Client<typeof AuditService> {
  return createClient(AuditService, transportFor(service.keyward.server.rpcUrl, protocol, token));
}

const summary = (events: AuditEvent[]) =>
  events.map((e) => [e.action, AuditOutcome[e.outcome], ActorType[e.actor?.type ?? 0], e.actor?.id, TargetType[e.target?.type ?? 0], e.target?.id]);

describe.each(PROTOCOLS)("audit trail over %s", (protocol) => {
  it("records organization upsert, suspend and resume with the service token and their changes", async () => {
    const { organizations } = service.clients(protocol, TOKENS[1]);
    const id = `org-${randomUUID()}`;
    const organization = create(OrganizationSchema, { id, workspaces: ["ws-1"], rateLimit: { limit: 50, window: durationFromMs(60_000) } });
    await organizations.upsertOrganization({ organization });
    await organizations.suspendOrganization({ id });
    await organizations.resumeOrganization({ id });
    await organizations.upsertOrganization({ organization: { ...organization, workspaces: ["ws-1", "ws-2"] } });

    const { events } = await auditClient(protocol).listAuditEvents({ organizationId: id });
    expect(summary(events)).toEqual(
      ["organization.upsert", "organization.resume", "organization.suspend", "organization.upsert"].map((action) => [
        action, "ALLOWED", "SERVICE", "token-2", "ORGANIZATION", id,
      ]),
    );
    expect(events.map((e) => e.changes)).toEqual([
      { workspaces: { old: ["ws-1"], new: ["ws-1", "ws-2"] } },
      { status: { old: "suspended", new: "active" } },
      { status: { old: "active", new: "suspended" } },
      { workspaces: { old: [], new: ["ws-1"] }, rateLimit: { old: null, new: { limit: 50, windowMs: 60_000 } } },
    ]);
    for (const event of events) {
      expect(event.organizationId).toBe(id);
      expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
      expect(event.clientIp).toBe("127.0.0.1");
      expect(event.reason).toBe("");
    }
  });

  it("records key management by services, with the caller's request id, and pages and filters", async () => {
    const { apiKeys } = service.clients(protocol, TOKENS[0]);
    const organizationId = `org-${randomUUID()}`;
    const headers = new Headers({ "x-request-id": `rpc-${protocol}` });
    let answered: string | null = null;
    const created = await apiKeys.createApiKey(
      { organizationId, name: "by a service", scopes: [] },
      { headers, onHeader: (h) => (answered = h.get("x-request-id")) },
    );
    expect(answered).toBe(`rpc-${protocol}`);
    const id = created.apiKey?.id ?? "";
    await apiKeys.updateApiKey({ organizationId, id, enabled: false, updateMask: create(FieldMaskSchema, { paths: ["enabled"] }) });
    await apiKeys.rollApiKey({ organizationId, id });
    await apiKeys.revokeApiKey({ organizationId, id });

    const audit = auditClient(protocol);
    const all = await audit.listAuditEvents({ organizationId });
    expect(summary(all.events)).toEqual(
      ["api_key.revoke", "api_key.roll", "api_key.disable", "api_key.create"].map((action) => [action, "ALLOWED", "SERVICE", "token-1", "API_KEY", id]),
    );
    expect(all.events.at(-1)?.requestId).toBe(`rpc-${protocol}`);
    expect(all.nextPageToken).toBe("");

    const first = await audit.listAuditEvents({ organizationId, pageSize: 3 });
    expect(first.events.map((e) => e.id)).toEqual(all.events.slice(0, 3).map((e) => e.id));
    const rest = await audit.listAuditEvents({ organizationId, pageSize: 3, pageToken: first.nextPageToken });
    expect(rest.events.map((e) => e.id)).toEqual(all.events.slice(3).map((e) => e.id));
    expect(rest.nextPageToken).toBe("");

    expect(summary((await audit.listAuditEvents({ organizationId, action: "api_key.roll" })).events)).toHaveLength(1);
    expect((await audit.listAuditEvents({ organizationId, actorId: "token-2" })).events).toEqual([]);
    expect((await audit.listAuditEvents({ organizationId, targetId: id })).events).toHaveLength(4);
    const createdAt = all.events.at(-1)?.time;
    expect((await audit.listAuditEvents({ organizationId, endTime: createdAt })).events).toEqual([]);
    expect((await audit.listAuditEvents({ organizationId, startTime: timestampFromDate(new Date(Date.now() + 60_000)) })).events).toEqual([]);
  });

  it("never answers another organization's events, and rejects bad requests", async () => {
    const audit = auditClient(protocol);
    const { apiKeys } = service.clients(protocol, TOKENS[0]);
    const mine = `org-${randomUUID()}`;
    await apiKeys.createApiKey({ organizationId: mine, name: "mine" });
    expect((await audit.listAuditEvents({ organizationId: `org-${randomUUID()}` })).events).toEqual([]);
    expect((await audit.listAuditEvents({ organizationId: mine })).events.map((e) => e.organizationId)).toEqual([mine]);

    for (const request of [
      { organizationId: "" },
      { organizationId: mine, pageToken: "bm90LWEtdG9rZW4" },
      { organizationId: mine, action: "api_key.explode" },
      { organizationId: mine, startTime: timestampFromDate(new Date(2030, 1, 2)), endTime: timestampFromDate(new Date(2030, 1, 1)) },
    ]) {
      await expect(audit.listAuditEvents(request)).rejects.toMatchObject({ code: Code.InvalidArgument });
    }
    await expect(auditClient(protocol, "svc-token-wrong-cccccccccccc").listAuditEvents({ organizationId: mine })).rejects.toMatchObject({
      code: Code.Unauthenticated,
    });
  });
});

describe("error mapping", () => {
  it("answers a refusal as PERMISSION_DENIED (RPC callers are services, so only a non-service actor could meet one)", () => {
    const error = toConnectError(insufficientPrivilege("a test key cannot create a live key"), pino({ level: "silent" }));
    expect(error.code).toBe(Code.PermissionDenied);
    expect(error.rawMessage).toBe("a test key cannot create a live key");
  });
});
