/**
 * Rate-limit verdicts over gRPC against the real server, wired both ways:
 * in-process (no REDIS_URL) and on the run's real Redis.
 */
import { Mode } from "../../gen/authn/v1/common_pb.js";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startTestKeyward } from "../support/keyward.js";
import type { Clients, TestKeyward } from "../support/keyward.js";
import { bearer, httpHeader, organizationWithPlan } from "./support.js";

const HOUR = 3_600_000;

describe.each([
  { wiring: "in-process", env: {} as Record<string, string> },
  { wiring: "redis", env: { REDIS_URL: inject("redisUrl") } },
])("rate-limit verdicts ($wiring limiter)", ({ env }) => {
  let service: TestKeyward;
  let clients: Clients;
  beforeAll(async () => {
    service = await startTestKeyward({ env });
    clients = service.clients("grpc");
  });
  afterAll(() => service?.stop());

  it("reports rate_limit on every allowed verdict, then answers RATE_LIMITED 429 with Retry-After", async () => {
    const org = await organizationWithPlan(clients, 3, HOUR); // a unit every 1200 s
    const headers = bearer(await org.newKey());
    for (const remaining of [2, 1, 0]) {
      const ok = await clients.auth.verify({ headers });
      expect(ok).toMatchObject({ allowed: true, code: VerifyCode.OK, rateLimit: { limit: 3, remaining } });
      expect(ok.rateLimit?.retryAfterMs).toBe(0n);
      expect(httpHeader(ok, "RateLimit-Limit")).toBe("3");
      expect(httpHeader(ok, "RateLimit-Remaining")).toBe(String(remaining));
    }

    const limited = await clients.auth.verify({ headers });
    expect(limited).toMatchObject({
      allowed: false,
      code: VerifyCode.RATE_LIMITED,
      organizationId: org.id,
      rateLimit: { limit: 3, remaining: 0 },
    });
    const retryAfterMs = Number(limited.rateLimit?.retryAfterMs);
    const resetMs = Number(limited.rateLimit?.resetMs);
    expect(retryAfterMs).toBeGreaterThan(1_200_000 - 5_000);
    expect(retryAfterMs).toBeLessThanOrEqual(1_200_000);
    expect(resetMs).toBeGreaterThan(HOUR - 5_000);
    expect(resetMs).toBeLessThanOrEqual(HOUR);

    expect(limited.http?.status).toBe(429);
    expect(httpHeader(limited, "Retry-After")).toBe(String(Math.ceil(retryAfterMs / 1000)));
    expect(httpHeader(limited, "RateLimit-Limit")).toBe("3");
    expect(httpHeader(limited, "RateLimit-Remaining")).toBe("0");
    expect(httpHeader(limited, "RateLimit-Reset")).toBe(String(Math.ceil(resetMs / 1000)));
    expect(httpHeader(limited, "Content-Type")).toBe("application/problem+json");
    expect(JSON.parse(limited.http?.body ?? "")).toMatchObject({ status: 429, code: "rate_limited" });
  });

  it("charges `cost` units", async () => {
    const org = await organizationWithPlan(clients, 10, HOUR);
    const headers = bearer(await org.newKey());
    expect(await clients.auth.verify({ headers, cost: 7 })).toMatchObject({ allowed: true, rateLimit: { remaining: 3 } });
    expect(await clients.auth.verify({ headers, cost: 4 })).toMatchObject({ code: VerifyCode.RATE_LIMITED });
    expect(await clients.auth.verify({ headers, cost: 3 })).toMatchObject({ allowed: true, rateLimit: { remaining: 0 } });
  });

  it("shares one pool per organization and mode; a per-key plan has its own", async () => {
    const org = await organizationWithPlan(clients, 2, HOUR);
    const first = bearer(await org.newKey());
    const second = bearer(await org.newKey());
    const test = bearer(await org.newKey({ mode: Mode.TEST }));
    const own = bearer(await org.newKey({ plan: { limit: 5, windowMs: HOUR } }));
    const other = await organizationWithPlan(clients, 2, HOUR);

    expect((await clients.auth.verify({ headers: first })).rateLimit?.remaining).toBe(1);
    expect((await clients.auth.verify({ headers: second })).rateLimit?.remaining).toBe(0);
    expect((await clients.auth.verify({ headers: first })).code).toBe(VerifyCode.RATE_LIMITED);
    // The test-mode pool, a per-key plan and another organization are untouched.
    expect(await clients.auth.verify({ headers: test })).toMatchObject({ allowed: true, rateLimit: { limit: 2, remaining: 1 } });
    expect(await clients.auth.verify({ headers: own })).toMatchObject({ allowed: true, rateLimit: { limit: 5, remaining: 4 } });
    const otherKey = bearer(await other.newKey());
    expect(await clients.auth.verify({ headers: otherKey })).toMatchObject({ allowed: true, rateLimit: { remaining: 1 } });
  });

  it("charges only authenticated, authorized requests", async () => {
    const org = await organizationWithPlan(clients, 2, HOUR, { workspaces: ["ws-1"] });
    const headers = bearer(await org.newKey({ scopes: ["read"] }));
    for (let i = 0; i < 5; i++) {
      const scope = await clients.auth.verify({ headers, requiredScope: "send" });
      expect(scope.code).toBe(VerifyCode.INSUFFICIENT_SCOPE);
      const workspace = await clients.auth.verify({ headers, workspaceId: "ws-other" });
      expect(workspace.code).toBe(VerifyCode.WORKSPACE_FORBIDDEN);
    }
    const unknown = await clients.auth.verify({ headers: bearer(`${(await org.newKey()).slice(0, -6)}AAAAAA`) });
    expect(unknown.code).toBe(VerifyCode.MALFORMED_CREDENTIALS);
    expect(unknown.rateLimit).toBeUndefined();

    // None of the denials above used a unit.
    expect(await clients.auth.verify({ headers, requiredScope: "read" })).toMatchObject({
      allowed: true,
      rateLimit: { remaining: 1 },
    });
  });
});
