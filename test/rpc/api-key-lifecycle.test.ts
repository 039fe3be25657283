/**
 * The key lifecycle over real gRPC, Connect and gRPC-Web clients against the
 * real server, backed by the real MongoDB-compatible server.
 */
import { randomUUID } from "node:crypto";
import { create, toJson } from "@bufbuild/protobuf";
import { durationFromMs, FieldMaskSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetApiKeyResponseSchema } from "../../gen/authn/v1/api_key_pb.js";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { KeyKind, Mode } from "../../gen/authn/v1/common_pb.js";
import { KEY_PATTERN } from "../../src/domain/key-format.js";
import { PROTOCOLS, openMongo, startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";

let service: TestKeyward;
let mongo: MongoClient;

beforeAll(async () => {
  service = await startTestKeyward();
  mongo = await openMongo();
});
afterAll(async () => {
  await service?.stop();
  await mongo?.close();
});

const bearer = (key: string) => [{ name: "Authorization", value: `Bearer ${key}` }];

describe.each(PROTOCOLS)("ApiKeyService over %s", (protocol) => {
  it("creates, gets, lists (paged), updates, rolls and revokes a key", async () => {
    const { apiKeys, auth } = service.clients(protocol);
    const organizationId = `org-${randomUUID()}`;
    const expiresAt = new Date(Date.now() + 86_400_000);

    const created = await apiKeys.createApiKey({
      organizationId,
      name: "  Production  ",
      mode: Mode.LIVE,
      scopes: ["send", "read"],
      metadata: { team: "core" },
      expiresAt: timestampFromDate(expiresAt),
    });
    expect(created.key).toMatch(KEY_PATTERN);
    expect(created.key.startsWith("sk_live_")).toBe(true);
    const key = created.apiKey;
    expect(key).toMatchObject({
      organizationId,
      name: "Production",
      mode: Mode.LIVE,
      kind: KeyKind.STANDARD,
      scopes: ["send", "read"],
      active: true,
      enabled: true,
      metadata: { team: "core" },
      hint: `${created.key.slice(0, 12)}…${created.key.slice(-4)}`,
    });
    const id = key?.id ?? "";

    const got = await apiKeys.getApiKey({ organizationId, id });
    expect(got.apiKey).toEqual(key);
    expect(JSON.stringify(toJson(GetApiKeyResponseSchema, got))).not.toContain(created.key);

    // More keys, then page through all of them two at a time.
    const names = ["Production"];
    for (let i = 0; i < 4; i++) {
      const more = await apiKeys.createApiKey({ organizationId, name: `k${i}`, mode: i % 2 ? Mode.TEST : Mode.LIVE });
      expect(more.key.startsWith(i % 2 ? "sk_test_" : "sk_live_")).toBe(true);
      names.push(`k${i}`);
    }
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await apiKeys.listApiKeys({ organizationId, pageSize: 2, pageToken });
      expect(page.apiKeys.length).toBeLessThanOrEqual(2);
      seen.push(...page.apiKeys.map((k) => k.name));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken);
    expect(pages).toBe(3);
    expect(seen).toEqual([...names].reverse());
    const testOnly = await apiKeys.listApiKeys({ organizationId, mode: Mode.TEST });
    expect(testOnly.apiKeys.map((k) => k.name)).toEqual(["k3", "k1"]);

    const updated = await apiKeys.updateApiKey({
      organizationId,
      id,
      name: "Renamed",
      scopes: ["send"],
      updateMask: create(FieldMaskSchema, { paths: ["name", "scopes"] }),
    });
    expect(updated.apiKey).toMatchObject({ name: "Renamed", scopes: ["send"], metadata: { team: "core" } });

    const rolled = await apiKeys.rollApiKey({ organizationId, id, gracePeriod: durationFromMs(60_000) });
    expect(rolled.key).toMatch(KEY_PATTERN);
    expect(rolled.key).not.toBe(created.key);
    expect(rolled.apiKey).toMatchObject({ id, name: "Renamed", scopes: ["send"], expiresAt: key?.expiresAt });
    // Both secrets work during the grace period.
    expect((await auth.verify({ headers: bearer(created.key) })).code).toBe(VerifyCode.OK);
    expect((await auth.verify({ headers: bearer(rolled.key) })).code).toBe(VerifyCode.OK);

    const revoked = await apiKeys.revokeApiKey({ organizationId, id });
    expect(revoked.apiKey?.active).toBe(false);
    expect(revoked.apiKey?.revokedAt).toBeDefined();
    expect((await auth.verify({ headers: bearer(rolled.key) })).code).toBe(VerifyCode.KEY_REVOKED);
    expect((await auth.verify({ headers: bearer(created.key) })).code).toBe(VerifyCode.KEY_REVOKED);
    const active = await apiKeys.listApiKeys({ organizationId, active: true, pageSize: 100 });
    expect(active.apiKeys.map((k) => k.id)).not.toContain(id);
  });

  it("answers NOT_FOUND for another organization's key and INVALID_ARGUMENT for bad input", async () => {
    const { apiKeys } = service.clients(protocol);
    const created = await apiKeys.createApiKey({ organizationId: "org-owner", name: "mine" });
    const id = created.apiKey?.id ?? "";
    for (const call of [
      () => apiKeys.getApiKey({ organizationId: "org-thief", id }),
      () => apiKeys.revokeApiKey({ organizationId: "org-thief", id }),
      () => apiKeys.rollApiKey({ organizationId: "org-thief", id }),
      () =>
        apiKeys.updateApiKey({
          organizationId: "org-thief",
          id,
          name: "x",
          updateMask: create(FieldMaskSchema, { paths: ["name"] }),
        }),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: Code.NotFound });
    }
    const invalid: Array<() => Promise<unknown>> = [
      () => apiKeys.createApiKey({ organizationId: "org-owner", name: "   " }),
      () => apiKeys.createApiKey({ organizationId: "org-owner", name: "x".repeat(201) }),
      () => apiKeys.createApiKey({ organizationId: "", name: "x" }),
      () => apiKeys.createApiKey({ organizationId: '{"$gt":""}', name: "x" }),
      () => apiKeys.createApiKey({ organizationId: "org-owner", name: "x", kind: KeyKind.MASTER, workspaceId: "ws1" }),
      () => apiKeys.createApiKey({ organizationId: "org-owner", name: "x", expiresAt: timestampFromDate(new Date(0)) }),
      () => apiKeys.listApiKeys({ organizationId: "org-owner", pageToken: "not-a-token" }),
      () => apiKeys.updateApiKey({ organizationId: "org-owner", id, name: "x" }),
    ];
    for (const call of invalid) {
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    }
  });
});

describe("storage", () => {
  it("holds no plaintext key: only its sha256 and hint", async () => {
    const { apiKeys } = service.clients("grpc");
    const created = await apiKeys.createApiKey({ organizationId: "org-storage", name: "secret check" });
    const rolled = await apiKeys.rollApiKey({
      organizationId: "org-storage",
      id: created.apiKey?.id ?? "",
      gracePeriod: durationFromMs(60_000),
    });
    const docs = await mongo.db(service.database ?? "").collection("api_keys").find({}).toArray();
    expect(docs.length).toBeGreaterThan(0);
    const dump = JSON.stringify(docs);
    for (const secret of [created.key, rolled.key]) {
      expect(dump).not.toContain(secret);
      // Not even the secret body without its prefix.
      expect(dump).not.toContain(secret.slice(12, -4));
    }
    const doc = docs.find((d) => d._id === (created.apiKey?.id as unknown));
    expect(doc?.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
