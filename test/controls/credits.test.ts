/**
 * Credits over RPC on the real server (FerretDB, Redis): spent by each
 * allowed Verify, after the rate limit; exhausted is USAGE_EXCEEDED (429,
 * Retry-After to the next refill); refilled at UTC boundaries; set and
 * removed by UpdateApiKey; kept across a restart. And the key's metadata on
 * the verdict.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { RefillInterval } from "../../gen/authn/v1/api_key_pb.js";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { nextRefillAt } from "../../src/domain/credits.js";
import { bearer, creditsMessage, header, newKey, newOrganization, problem } from "../support/fixtures.js";
import { openMongo, startTestKeyward } from "../support/keyward.js";
import type { Clients, TestKeyward } from "../support/keyward.js";

let service: TestKeyward;
let clients: Clients;
let mongo: MongoClient;

beforeAll(async () => {
  service = await startTestKeyward({ env: { REDIS_URL: inject("redisUrl"), KEYWARD_CACHE_TTL_MS: "3600000" } });
  clients = service.clients("grpc");
  mongo = await openMongo();
});
afterAll(async () => {
  await service?.stop();
  await mongo?.close();
});

const mask = (...paths: string[]) => create(FieldMaskSchema, { paths });
const remainingOf = async (org: string, id: string) => (await clients.apiKeys.getApiKey({ organizationId: org, id })).apiKey?.credits?.remaining;

describe("credits", () => {
  it("are spent by each allowed Verify, exactly, then USAGE_EXCEEDED (429) without Retry-After when they never refill", async () => {
    const org = await newOrganization(clients);
    const { id, key } = await newKey(clients, org, { credits: { remaining: 3 } });
    const verdicts = [];
    for (let i = 0; i < 5; i++) verdicts.push(await clients.auth.verify({ headers: bearer(key) }));
    expect(verdicts.map((v) => v.creditsRemaining)).toEqual([2n, 1n, 0n, 0n, 0n]);
    expect(verdicts.map((v) => v.code)).toEqual([VerifyCode.OK, VerifyCode.OK, VerifyCode.OK, VerifyCode.USAGE_EXCEEDED, VerifyCode.USAGE_EXCEEDED]);
    const denied = verdicts[4]!;
    expect(denied).toMatchObject({ allowed: false, organizationId: org, keyId: id });
    expect(denied.http?.status).toBe(429);
    expect(problem(denied)).toMatchObject({ status: 429, title: "Too Many Requests", code: "usage_exceeded", detail: "API key has no credits left" });
    expect(header(denied, "retry-after")).toEqual([]);
    expect(header(denied, "ratelimit-limit")).toHaveLength(1);
    expect(await remainingOf(org, id)).toBe(0n);
  });

  it("spend the request's cost, whole or not at all", async () => {
    const org = await newOrganization(clients);
    const { key } = await newKey(clients, org, { credits: { remaining: 10 } });
    expect((await clients.auth.verify({ headers: bearer(key), cost: 4 })).creditsRemaining).toBe(6n);
    expect((await clients.auth.verify({ headers: bearer(key), cost: 7 })).code).toBe(VerifyCode.USAGE_EXCEEDED);
    expect((await clients.auth.verify({ headers: bearer(key), cost: 6 })).creditsRemaining).toBe(0n);
  });

  it("are charged last: a rate-limited or otherwise denied request spends none", async () => {
    const org = await newOrganization(clients);
    const { id, key } = await newKey(clients, org, { scopes: ["send"], credits: { remaining: 10 }, rateLimit: { limit: 2, windowMs: 3_600_000 } });
    expect((await clients.auth.verify({ headers: bearer(key), requiredScope: "read" })).code).toBe(VerifyCode.INSUFFICIENT_SCOPE);
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await clients.auth.verify({ headers: bearer(key), requiredScope: "send" })).code);
    expect(codes).toEqual([VerifyCode.OK, VerifyCode.OK, VerifyCode.RATE_LIMITED, VerifyCode.RATE_LIMITED]);
    expect(await remainingOf(org, id)).toBe(8n);
  });

  it("answer Retry-After until the next UTC refill when exhausted", async () => {
    const org = await newOrganization(clients);
    const { key } = await newKey(clients, org, { credits: { remaining: 0, refill: [RefillInterval.DAILY, 5] } });
    const verdict = await clients.auth.verify({ headers: bearer(key) });
    expect(verdict.code).toBe(VerifyCode.USAGE_EXCEEDED);
    const expected = Math.ceil((nextRefillAt("daily", new Date()).getTime() - Date.now()) / 1000);
    const retryAfter = Number(header(verdict, "retry-after")[0]);
    expect(Math.abs(retryAfter - expected)).toBeLessThanOrEqual(5);
  });

  it("refill at the first Verify after a UTC boundary (the stored refill set in the past)", async () => {
    const org = await newOrganization(clients);
    const { id, key } = await newKey(clients, org, { credits: { remaining: 0, refill: [RefillInterval.DAILY, 5] } });
    expect((await clients.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.USAGE_EXCEEDED);
    // The credits' latest state, as if it had been written yesterday.
    const yesterday = new Date(Date.now() - 86_400_000);
    const keys = mongo.db(service.database ?? "").collection<{ _id: string }>("api_keys");
    await keys.updateOne({ _id: id }, { $set: { "credits.refilled_at": yesterday } });
    const verdict = await clients.auth.verify({ headers: bearer(key) });
    expect(verdict).toMatchObject({ allowed: true, creditsRemaining: 4n });
    expect(await remainingOf(org, id)).toBe(4n);
  });

  it("are set, adjusted and removed by UpdateApiKey (update_mask credits), at once though the key is cached", async () => {
    const org = await newOrganization(clients);
    const { id, key } = await newKey(clients, org, { credits: { remaining: 1 } });
    expect((await clients.auth.verify({ headers: bearer(key) })).creditsRemaining).toBe(0n);
    expect((await clients.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.USAGE_EXCEEDED);

    const raised = await clients.apiKeys.updateApiKey({
      organizationId: org,
      id,
      credits: creditsMessage({ remaining: 2, refill: [RefillInterval.MONTHLY, 100] }),
      updateMask: mask("credits"),
    });
    expect(raised.apiKey?.credits).toMatchObject({ remaining: 2n, refill: { interval: RefillInterval.MONTHLY, amount: 100n } });
    expect((await clients.auth.verify({ headers: bearer(key) })).creditsRemaining).toBe(1n);

    const removed = await clients.apiKeys.updateApiKey({ organizationId: org, id, updateMask: mask("credits") });
    expect(removed.apiKey?.credits).toBeUndefined();
    const unlimited = await clients.auth.verify({ headers: bearer(key) });
    expect(unlimited.allowed).toBe(true);
    expect(unlimited.creditsRemaining).toBeUndefined();
  });

  it("refuse bad values (INVALID_ARGUMENT) and change nothing", async () => {
    const org = await newOrganization(clients);
    const bad = [
      creditsMessage({ remaining: 1e12 + 1 }),
      creditsMessage({ remaining: 1, refill: [RefillInterval.UNSPECIFIED, 1] }),
      creditsMessage({ remaining: 1, refill: [RefillInterval.DAILY, 0] }),
    ];
    for (const credits of bad) {
      const error = await clients.apiKeys.createApiKey({ organizationId: org, name: "x", credits }).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.InvalidArgument);
      expect((error as ConnectError).rawMessage).toMatch(/^credits\./);
    }
    expect((await clients.apiKeys.listApiKeys({ organizationId: org })).apiKeys).toEqual([]);
  });

  it("are unset on the verdict of keys without credits, which pay nothing", async () => {
    const org = await newOrganization(clients);
    const { key } = await newKey(clients, org);
    const verdict = await clients.auth.verify({ headers: bearer(key) });
    expect(verdict.allowed).toBe(true);
    expect(verdict.creditsRemaining).toBeUndefined();
  });

  it("survive a restart: the count goes on where it was", async () => {
    const database = `kw_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const env = { KEYWARD_MONGODB_DATABASE: database };
    const first = await startTestKeyward({ env });
    const org = await newOrganization(first.clients("grpc"));
    const { key } = await newKey(first.clients("grpc"), org, { credits: { remaining: 5 } });
    for (let i = 0; i < 3; i++) await first.clients("grpc").auth.verify({ headers: bearer(key) });
    await first.stop();
    const second = await startTestKeyward({ env });
    try {
      expect((await second.clients("grpc").auth.verify({ headers: bearer(key) })).creditsRemaining).toBe(1n);
    } finally {
      await second.stop();
    }
  });
});

describe("metadata on the verdict", () => {
  it("is the key's metadata when allowed, nothing when denied, and follows an update", async () => {
    const org = await newOrganization(clients);
    const { id, key } = await newKey(clients, org, { scopes: ["send"], metadata: { team: "billing", plan: "pro" } });
    expect((await clients.auth.verify({ headers: bearer(key), requiredScope: "send" })).metadata).toEqual({ team: "billing", plan: "pro" });
    expect((await clients.auth.verify({ headers: bearer(key), requiredScope: "read" })).metadata).toEqual({});
    await clients.apiKeys.updateApiKey({ organizationId: org, id, metadata: { team: "core" }, updateMask: mask("metadata") });
    expect((await clients.auth.verify({ headers: bearer(key), requiredScope: "send" })).metadata).toEqual({ team: "core" });
  });
});
