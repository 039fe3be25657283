/**
 * The verification cache in front of the real MongoDB store (counted), with
 * an injected clock for TTLs and staleness.
 */
import { randomUUID } from "node:crypto";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { MongoCreditStore } from "../../src/adapters/mongo/mongo-credit-store.js";
import { MongoKeyStore } from "../../src/adapters/mongo/mongo-key-store.js";
import { MongoOrganizationStore } from "../../src/adapters/mongo/mongo-organization-store.js";
import type { ApiKeys } from "../../src/app/api-keys.js";
import { CreditCharger } from "../../src/app/credits.js";
import { VerificationCache } from "../../src/app/verification-cache.js";
import type { VerificationCacheOptions } from "../../src/app/verification-cache.js";
import { Verifier } from "../../src/app/verify.js";
import { generateKey } from "../../src/domain/key-format.js";
import { DEFAULT_ROUTE_RULES, RoutePolicy } from "../../src/domain/route-policy.js";
import type { KeyStore } from "../../src/ports/key-store.js";
import { NO_USAGE_RECORDER } from "../../src/ports/usage-recorder.js";
import { openMongo } from "../support/keyward.js";
import { keyLifecycle, SERVICE_CONTEXT } from "../support/use-cases.js";

let mongo: MongoClient;
let keys: MongoKeyStore;
let credits: MongoCreditStore;
let organizations: MongoOrganizationStore;
let apiKeys: ApiKeys;

beforeAll(async () => {
  mongo = await openMongo();
  const db = mongo.db(`kw_cache_${randomUUID().slice(0, 8)}`);
  keys = new MongoKeyStore(db);
  await keys.ensureIndexes();
  organizations = new MongoOrganizationStore(db);
  credits = new MongoCreditStore(db);
  apiKeys = keyLifecycle(keys);
});
afterAll(() => mongo?.close());

/** A cache over the real store whose lookups are counted and can be made to fail. */
function harness(options: Partial<VerificationCacheOptions> = {}) {
  let clock = 1_000_000;
  const state = { lookups: 0, down: false, staleServed: 0 };
  const counted: Pick<KeyStore, "findByHash"> = {
    findByHash: async (hash) => {
      state.lookups++;
      if (state.down) throw new Error("connection refused");
      return keys.findByHash(hash);
    },
  };
  const cache = new VerificationCache(
    { keys: counted, organizations },
    {
      maxEntries: 1000,
      ttlMs: 30_000,
      negativeTtlMs: 5_000,
      maxStaleMs: 300_000,
      now: () => clock,
      onStaleServed: () => state.staleServed++,
      ...options,
    },
  );
  const verifier = new Verifier({
    keys: cache.keyStore,
    organizations: cache.organizationStore,
    limiter: new MemoryRateLimiter(),
    credits: new CreditCharger(credits),
    routes: new RoutePolicy(DEFAULT_ROUTE_RULES),
    usage: NO_USAGE_RECORDER,
    userTokens: null,
    defaultPlan: { limit: 1_000_000, windowMs: 1000 },
    now: () => new Date(),
  });
  const verify = (key: string) => verifier.verify({ headers: [{ name: "authorization", value: `Bearer ${key}` }] });
  return { cache, state, verify, advance: (ms: number) => (clock += ms) };
}

const newKey = async () => (await apiKeys.create(SERVICE_CONTEXT, { organizationId: "org-cache", name: "k" })).plaintext;

describe("VerificationCache", () => {
  it("shares one storage lookup among 100 concurrent first calls", async () => {
    const { state, verify } = harness();
    const key = await newKey();
    const verdicts = await Promise.all(Array.from({ length: 100 }, () => verify(key)));
    expect(verdicts.every((v) => v.code === "OK")).toBe(true);
    expect(state.lookups).toBe(1);
    await verify(key);
    expect(state.lookups).toBe(1);
  });

  it("caches misses (negative entries) for their own, shorter TTL", async () => {
    const { state, verify, advance } = harness();
    const unknown = generateKey("live").plaintext;
    expect((await verify(unknown)).code).toBe("INVALID_CREDENTIALS");
    expect((await verify(unknown)).code).toBe("INVALID_CREDENTIALS");
    expect(state.lookups).toBe(1);
    advance(5_001);
    await verify(unknown);
    expect(state.lookups).toBe(2);
  });

  it("refreshes an entry past its TTL", async () => {
    const { state, verify, advance } = harness();
    const key = await newKey();
    await verify(key);
    advance(29_000);
    await verify(key);
    expect(state.lookups).toBe(1);
    advance(2_000);
    await verify(key);
    expect(state.lookups).toBe(2);
  });

  it("is bounded in size", async () => {
    const { state, verify } = harness({ maxEntries: 3 });
    const first = await newKey();
    await verify(first);
    for (let i = 0; i < 3; i++) await verify(await newKey());
    await verify(first);
    expect(state.lookups).toBe(5); // the first key was evicted and looked up again
  });

  it("drops an invalidated key at once", async () => {
    const { cache, state, verify } = harness();
    const issued = await apiKeys.create(SERVICE_CONTEXT, { organizationId: "org-cache", name: "k" });
    await verify(issued.plaintext);
    await apiKeys.revoke(SERVICE_CONTEXT, "org-cache", issued.record.id);
    expect((await verify(issued.plaintext)).code).toBe("OK"); // still cached: nobody told it
    cache.invalidate({ type: "key", hashes: [issued.record.hash] });
    expect((await verify(issued.plaintext)).code).toBe("KEY_REVOKED");
    expect(state.lookups).toBe(2);
  });

  it("answers cached keys while storage is down, up to the maximum staleness; misses are UNAVAILABLE", async () => {
    const { state, verify, advance } = harness({ maxStaleMs: 60_000 });
    const key = await newKey();
    await verify(key);
    state.down = true;
    advance(45_000); // past the TTL, within the staleness bound
    expect((await verify(key)).code).toBe("OK");
    expect(state.staleServed).toBe(1);
    await expect(verify(await newKey())).rejects.toMatchObject({ code: "unavailable" });
    advance(20_000); // past the staleness bound
    await expect(verify(key)).rejects.toMatchObject({ code: "unavailable" });
    state.down = false;
    expect((await verify(key)).code).toBe("OK");
  });
});
