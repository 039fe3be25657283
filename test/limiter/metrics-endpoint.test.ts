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
});
