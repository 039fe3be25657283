/** GET /metrics on the HTTP port of the real server. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";

let service: TestKeyward;
beforeAll(async () => {
  service = await startTestKeyward({ embedded: true });
});
afterAll(() => service?.stop());

describe("GET /metrics", () => {
  it("serves the rate limiter's counters in the Prometheus text format", async () => {
    const res = await fetch(`${service.keyward.server.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain("# TYPE keyward_rate_limiter_fallback_total counter\nkeyward_rate_limiter_fallback_total 0\n");
    expect(text).toContain("keyward_rate_limiter_unavailable_total 0\n");
    expect(text).toContain("process_cpu_seconds_total");
  });

  it("counts Verify verdicts by code, without any credential in the text", async () => {
    const { auth, apiKeys } = service.clients("grpc");
    const { key } = await apiKeys.createApiKey({ organizationId: "org-metrics", name: "m" });
    const headers = [{ name: "authorization", value: `Bearer ${key}` }];
    await auth.verify({ headers });
    await auth.verify({ headers });
    await auth.verify({ headers: [] });
    const text = await (await fetch(`${service.keyward.server.httpUrl}/metrics`)).text();
    expect(text).toContain('keyward_verify_verdicts_total{code="OK",transport="rpc"} 2\n');
    expect(text).toContain('keyward_verify_verdicts_total{code="MISSING_CREDENTIALS",transport="rpc"} 1\n');
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice(8, 20));
  });
});
