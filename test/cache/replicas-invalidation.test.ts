/**
 * Two real service processes sharing Redis and MongoDB. Their cache TTL is an
 * hour, so only pub/sub can tell B about a change made on A: each change must
 * reach B's verdicts within a second (IP allowlists and credits included).
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { VerifyResponse } from "../../gen/authn/v1/auth_pb.js";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { eventually } from "../support/eventually.js";
import { startReplicas } from "../support/replicas.js";
import type { Replica } from "../support/replicas.js";
import { bearer, creditsMessage, newKey, newOrganization } from "../support/fixtures.js";

let a: Replica;
let b: Replica;
beforeAll(async () => {
  [a, b] = (await startReplicas(2, {
    MONGODB_URI: inject("mongoUri"),
    KEYWARD_MONGODB_DATABASE: `kw_${randomUUID().replaceAll("-", "").slice(0, 16)}`,
    REDIS_URL: inject("redisUrl"),
    KEYWARD_CACHE_TTL_MS: "3600000",
    KEYWARD_CACHE_NEGATIVE_TTL_MS: "3600000",
  })) as [Replica, Replica];
});
afterAll(async () => {
  await Promise.all([a, b].filter(Boolean).map((r) => r.stop()));
});

/** Polls B (20 ms apart) until its verdict changes; fails after one second. */
async function bChangesWithinOneSecond(request: () => Promise<VerifyResponse>, expected: VerifyCode): Promise<void> {
  const started = performance.now();
  await eventually(async () => (await request()).code === expected, 50, 20);
  expect(performance.now() - started).toBeLessThan(1000);
}

describe("invalidation across replicas", () => {
  it("revoke on A: B denies within 1 s", async () => {
    const org = await newOrganization(a.clients);
    const { id, key } = await newKey(a.clients, org);
    const onB = () => b.clients.auth.verify({ headers: bearer(key) });
    expect((await onB()).code).toBe(VerifyCode.OK); // now cached on B for an hour
    await a.clients.apiKeys.revokeApiKey({ organizationId: org, id });
    await bChangesWithinOneSecond(onB, VerifyCode.KEY_REVOKED);
  });

  it("disable, scope change and roll on A reach B within 1 s", async () => {
    const org = await newOrganization(a.clients);
    const disabled = await newKey(a.clients, org);
    const scoped = await newKey(a.clients, org, { scopes: ["send"] });
    const rolled = await newKey(a.clients, org);
    const verifyOnB = (key: string, requiredScope = "") => () =>
      b.clients.auth.verify({ headers: bearer(key), requiredScope });
    for (const [key, scope] of [[disabled.key, ""], [scoped.key, "send"], [rolled.key, ""]] as const) {
      expect((await verifyOnB(key, scope)()).code).toBe(VerifyCode.OK);
    }

    await a.clients.apiKeys.updateApiKey({
      organizationId: org,
      id: disabled.id,
      enabled: false,
      updateMask: create(FieldMaskSchema, { paths: ["enabled"] }),
    });
    await bChangesWithinOneSecond(verifyOnB(disabled.key), VerifyCode.KEY_DISABLED);

    await a.clients.apiKeys.updateApiKey({
      organizationId: org,
      id: scoped.id,
      scopes: ["read"],
      updateMask: create(FieldMaskSchema, { paths: ["scopes"] }),
    });
    await bChangesWithinOneSecond(verifyOnB(scoped.key, "send"), VerifyCode.INSUFFICIENT_SCOPE);

    const next = await a.clients.apiKeys.rollApiKey({ organizationId: org, id: rolled.id, gracePeriod: durationFromMs(0) });
    await bChangesWithinOneSecond(verifyOnB(rolled.key), VerifyCode.INVALID_CREDENTIALS);
    expect((await verifyOnB(next.key)()).code).toBe(VerifyCode.OK);
  });

  it("IP allowlist and credit changes on A reach B within 1 s", async () => {
    const org = await newOrganization(a.clients);
    const fenced = await newKey(a.clients, org, { ipAllowlist: ["10.0.0.0/8"] });
    const limited = await newKey(a.clients, org);
    const fromOffice = () => b.clients.auth.verify({ headers: bearer(fenced.key), clientIp: "10.0.0.1" });
    const onB = () => b.clients.auth.verify({ headers: bearer(limited.key) });
    expect((await fromOffice()).code).toBe(VerifyCode.OK);
    expect((await onB()).code).toBe(VerifyCode.OK);

    await a.clients.apiKeys.updateApiKey({
      organizationId: org,
      id: fenced.id,
      ipAllowlist: ["192.0.2.0/24"],
      updateMask: create(FieldMaskSchema, { paths: ["ip_allowlist"] }),
    });
    await bChangesWithinOneSecond(fromOffice, VerifyCode.IP_NOT_ALLOWED);

    await a.clients.apiKeys.updateApiKey({
      organizationId: org,
      id: limited.id,
      credits: creditsMessage({ remaining: 0 }),
      updateMask: create(FieldMaskSchema, { paths: ["credits"] }),
    });
    await bChangesWithinOneSecond(onB, VerifyCode.USAGE_EXCEEDED);
  });

  it("suspending the organization on A reaches B within 1 s", async () => {
    const org = await newOrganization(a.clients);
    const { key } = await newKey(a.clients, org);
    const onB = () => b.clients.auth.verify({ headers: bearer(key) });
    expect((await onB()).code).toBe(VerifyCode.OK);
    await a.clients.organizations.suspendOrganization({ id: org });
    await bChangesWithinOneSecond(onB, VerifyCode.ORGANIZATION_SUSPENDED);
    await a.clients.organizations.resumeOrganization({ id: org });
    await bChangesWithinOneSecond(onB, VerifyCode.OK);
  });
});
