/**
 * Exactness across replicas: three real service processes (`node --import
 * tsx src/main.ts`) share one Redis and one MongoDB; hundreds of concurrent
 * Verify calls for one organization, split across them, are allowed exactly
 * `limit` times.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { startReplicas } from "../support/replicas.js";
import type { Replica } from "../support/replicas.js";
import { metricValue } from "../support/metrics.js";
import { bearer, organizationWithPlan } from "./support.js";

const REPLICAS = 3;
let replicas: Replica[] = [];
beforeAll(async () => {
  replicas = await startReplicas(REPLICAS, {
    MONGODB_URI: inject("mongoUri"),
    KEYWARD_MONGODB_DATABASE: `kw_${randomUUID().replaceAll("-", "").slice(0, 16)}`,
    REDIS_URL: inject("redisUrl"),
  });
});
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
});

describe(`${REPLICAS} service processes on one Redis`, () => {
  it("allow exactly the organization's limit, however the calls are spread", async () => {
    const [first] = replicas;
    if (!first) throw new Error("no replica started");
    const org = await organizationWithPlan(first.clients, 150, 3_600_000);
    // One key per replica: the organization's keys share its pool.
    const keys = await Promise.all(replicas.map(() => org.newKey()));

    const verdicts = await Promise.all(
      Array.from({ length: 400 }, (_, i) => {
        const replica = replicas[i % replicas.length]!;
        return replica.clients.auth.verify({ headers: bearer(keys[i % keys.length]!) });
      }),
    );

    const allowed = verdicts.filter((v) => v.allowed);
    expect(allowed).toHaveLength(150);
    expect(verdicts.filter((v) => v.code === VerifyCode.RATE_LIMITED)).toHaveLength(250);
    expect(verdicts.filter((v) => !v.allowed).every((v) => v.http?.status === 429)).toBe(true);
    // Every allowed call saw a different "remaining": one shared, exact count.
    expect(new Set(allowed.map((v) => v.rateLimit?.remaining)).size).toBe(150);
    // Redis decided every call; no replica fell back to its own count.
    for (const replica of replicas) {
      expect(await metricValue(replica.httpUrl, "keyward_rate_limiter_fallback_total")).toBe(0);
    }
  });
});
