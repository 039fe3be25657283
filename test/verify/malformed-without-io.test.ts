/**
 * Malformed keys are rejected before any storage call: the real MongoDB
 * store is wrapped to count lookups.
 */
import { randomUUID } from "node:crypto";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MongoCreditStore } from "../../src/adapters/mongo/mongo-credit-store.js";
import { MongoKeyStore } from "../../src/adapters/mongo/mongo-key-store.js";
import { MongoOrganizationStore } from "../../src/adapters/mongo/mongo-organization-store.js";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { CreditCharger } from "../../src/app/credits.js";
import { Verifier } from "../../src/app/verify.js";
import { DEFAULT_ROUTE_RULES, RoutePolicy } from "../../src/domain/route-policy.js";
import type { KeyStore } from "../../src/ports/key-store.js";
import { NO_USAGE_RECORDER } from "../../src/ports/usage-recorder.js";
import { openMongo } from "../support/keyward.js";
import { keyLifecycle, SERVICE_CONTEXT } from "../support/use-cases.js";

let mongo: MongoClient;
let store: MongoKeyStore;
let lookups = 0;
let verifier: Verifier;
let valid: string;

beforeAll(async () => {
  mongo = await openMongo();
  const db = mongo.db(`kw_io_${randomUUID().slice(0, 8)}`);
  store = new MongoKeyStore(db);
  await store.ensureIndexes();
  const counting: Pick<KeyStore, "findByHash"> = {
    findByHash: (hash) => {
      lookups++;
      return store.findByHash(hash);
    },
  };
  verifier = new Verifier({
    keys: counting,
    organizations: new MongoOrganizationStore(db),
    limiter: new MemoryRateLimiter(),
    credits: new CreditCharger(new MongoCreditStore(db)),
    routes: new RoutePolicy(DEFAULT_ROUTE_RULES),
    usage: NO_USAGE_RECORDER,
    userTokens: null,
    defaultPlan: { limit: 100, windowMs: 1000 },
    now: () => new Date(),
  });
  valid = (await keyLifecycle(store).create(SERVICE_CONTEXT, { organizationId: "org-io", name: "k" })).plaintext;
});
afterAll(() => mongo?.close());

describe("malformed keys", () => {
  it("cost no storage lookup", async () => {
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "a" ? "b" : "a") + s.slice(i + 1);
    const malformed = [
      valid.replace("sk_live_", "sk_prod_"),
      valid.replace("sk_live_", "pk_live_"),
      valid.slice(0, -1),
      `${valid}0`,
      `${valid.slice(0, 20)}!${valid.slice(21)}`,
      `${valid.slice(0, 20)}é${valid.slice(21)}`,
      flip(valid, 25),
      flip(valid, valid.length - 1),
      "sk_",
      "sk_live_",
    ];
    lookups = 0;
    for (const key of malformed) {
      const verdict = await verifier.verify({ headers: [{ name: "authorization", value: `Bearer ${key}` }] });
      expect(verdict.code, key).toBe("MALFORMED_CREDENTIALS");
    }
    expect(lookups).toBe(0);
    // The same path does look up a well-formed key.
    expect((await verifier.verify({ headers: [{ name: "authorization", value: `Bearer ${valid}` }] })).code).toBe("OK");
    expect(lookups).toBe(1);
  });
});
