/**
 * Credits are exact across replicas: two real service processes (`node
 * --import tsx src/main.ts`) share one MongoDB-compatible store (FerretDB)
 * and Redis; 200 concurrent Verify calls on one key with 50 credits, split
 * across them, are allowed exactly 50 times.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";
import { startReplicas } from "../support/replicas.js";
import type { Replica } from "../support/replicas.js";

let replicas: Replica[] = [];
beforeAll(async () => {
  replicas = await startReplicas(2, {
    MONGODB_URI: inject("mongoUri"),
    KEYWARD_MONGODB_DATABASE: `kw_${randomUUID().replaceAll("-", "").slice(0, 16)}`,
    REDIS_URL: inject("redisUrl"),
  });
});
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
});

describe("two service processes spending one key's credits", () => {
  it("allow exactly 50 of 200 concurrent calls on 50 credits, never below zero", async () => {
    const [a, b] = replicas as [Replica, Replica];
    const org = await newOrganization(a.clients);
    const { id, key } = await newKey(a.clients, org, { credits: { remaining: 50 } });

    const verdicts = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).clients.auth.verify({ headers: bearer(key) })),
    );

    const allowed = verdicts.filter((v) => v.allowed);
    expect(allowed).toHaveLength(50);
    // Each allowed call saw a different count left: 49 down to 0, one credit each.
    expect(new Set(allowed.map((v) => v.creditsRemaining))).toEqual(new Set(Array.from({ length: 50 }, (_, i) => BigInt(i))));
    const denied = verdicts.filter((v) => !v.allowed);
    expect(denied.every((v) => v.code === VerifyCode.USAGE_EXCEEDED && v.http?.status === 429 && v.creditsRemaining === 0n)).toBe(true);
    // However the 50 fell between the replicas (one may settle its whole burst in one commit), the total is exact.
    for (const replica of replicas) {
      expect((await replica.clients.apiKeys.getApiKey({ organizationId: org, id })).apiKey?.credits?.remaining).toBe(0n);
    }
  });
});
