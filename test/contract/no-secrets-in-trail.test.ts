/**
 * No audit event, log line or metric carries a key's plaintext, its hash or
 * its hint — after keys are created, changed, rolled, refused and revoked
 * over REST and RPC, on the real service and the real MongoDB-compatible
 * store (read here straight from the audit_events collection).
 */
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Mode } from "../../gen/authn/v1/common_pb.js";
import { hashKey } from "../../src/domain/key-format.js";
import { openMongo } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";
import { dashboardOrganization, startRestKeyward } from "../rest/support.js";

let service: TestKeyward;
let mongo: MongoClient;

beforeAll(async () => {
  service = await startRestKeyward({}, { captureLogs: true });
  mongo = await openMongo();
});
afterAll(async () => {
  await service?.stop();
  await mongo?.close();
});

describe("secrets in the audit trail, logs and metrics", () => {
  it("never appear, whatever was done to the keys", async () => {
    const org = await dashboardOrganization(service);
    const secrets: string[] = [];
    const issued = (key: string, hint: string) => secrets.push(key, hashKey(key), hint, hint.slice("sk_live_".length));

    // REST: create, change, roll (twice, with a grace period), refused attempts, revoke.
    const writer = await org.make({ name: "writer", scopes: ["api_keys:write", "send"], metadata: { team: "core" } });
    issued(writer.key, writer.hint as string);
    const made = await org.as(writer)("POST", "/v1/api-keys", { json: { name: "narrow", scopes: ["send"], mode: "test" } });
    issued(made.body.key, made.body.hint);
    for (const grace of [3600, 0]) {
      const rolled = await org.user("POST", `/v1/api-keys/${made.body.id}/roll`, { json: { gracePeriodSeconds: grace } });
      expect(rolled.status).toBe(201);
      issued(rolled.body.key, rolled.body.hint);
    }
    expect((await org.as(writer)("POST", "/v1/api-keys", { json: { name: "escalation" } })).status).toBe(403);
    const unscoped = await org.make({ name: "unscoped" });
    issued(unscoped.key, unscoped.hint as string);
    expect((await org.as(writer)("POST", `/v1/api-keys/${unscoped.id}/roll`)).status).toBe(403);
    expect((await org.user("PATCH", `/v1/api-keys/${writer.id}`, { json: { scopes: ["send"], enabled: false } })).status).toBe(200);
    expect((await org.user("DELETE", `/v1/api-keys/${made.body.id}`)).status).toBe(200);

    // RPC: the same lifecycle by a service.
    const { apiKeys } = service.clients("connect");
    const rpc = await apiKeys.createApiKey({ organizationId: org.organizationId, name: "rpc", mode: Mode.TEST, metadata: { via: "rpc" } });
    issued(rpc.key, rpc.apiKey?.hint ?? "");
    const rolled = await apiKeys.rollApiKey({ organizationId: org.organizationId, id: rpc.apiKey?.id ?? "" });
    issued(rolled.key, rolled.apiKey?.hint ?? "");
    await apiKeys.updateApiKey({
      organizationId: org.organizationId,
      id: rpc.apiKey?.id ?? "",
      scopes: ["read"],
      updateMask: create(FieldMaskSchema, { paths: ["scopes"] }),
    });
    await apiKeys.revokeApiKey({ organizationId: org.organizationId, id: rpc.apiKey?.id ?? "" });

    const stored = await mongo
      .db(service.database ?? "")
      .collection("audit_events")
      .find({ organization_id: org.organizationId })
      .toArray();
    expect(stored.length).toBeGreaterThanOrEqual(12);
    const places = {
      "audit events (stored)": JSON.stringify(stored),
      "audit events (REST)": JSON.stringify(await org.events()),
      "log lines": JSON.stringify(service.logs),
      metrics: await (await fetch(`${service.keyward.server.httpUrl}/metrics`)).text(),
    };
    expect(secrets.length).toBe(7 * 4);
    expect(service.logs.length).toBeGreaterThan(0);
    for (const [place, text] of Object.entries(places)) {
      for (const secret of secrets) expect(text.includes(secret), `${place} contains ${secret.slice(0, 12)}…`).toBe(false);
      expect(text, place).not.toMatch(/sk_(live|test)_[0-9A-Za-z]{4}/);
    }
  });
});
