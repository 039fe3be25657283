/**
 * Per-key controls over the dashboard's REST API, against the real service
 * on FerretDB: IP allowlists and credits on create and PATCH (validated,
 * normalized), enforced on REST's own authentication (the client address is
 * the socket's: 127.0.0.1 here), and GET /v1/api-keys/{id}/usage.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import type { TestKeyward } from "../support/keyward.js";
import type { DashboardOrganization } from "./support.js";
import { dashboardOrganization, startRestKeyward } from "./support.js";

let service: TestKeyward;
let org: DashboardOrganization;

beforeAll(async () => {
  service = await startRestKeyward({ KEYWARD_USAGE_FLUSH_MS: "100" });
  org = await dashboardOrganization(service);
});
afterAll(async () => {
  await service?.stop();
});

/** The organization's key ids (their last_used_at moves on by itself here). */
const keyIds = async () => (await org.keys()).map((key) => (key as { id: string }).id);

describe("IP allowlists over REST", () => {
  it("are set normalized on create, replaced and lifted by PATCH", async () => {
    const key = await org.make({ ipAllowlist: ["10.1.2.3/8", "::ffff:203.0.113.7", "2001:DB8::/32"] });
    expect(key.ipAllowlist).toEqual(["10.0.0.0/8", "203.0.113.7", "2001:db8::/32"]);
    const patched = await org.user("PATCH", `/v1/api-keys/${key.id}`, { json: { ipAllowlist: ["127.0.0.1"] } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.ipAllowlist).toEqual(["127.0.0.1"]);
    const lifted = await org.user("PATCH", `/v1/api-keys/${key.id}`, { json: { ipAllowlist: [] } });
    expect(lifted.body.ipAllowlist).toEqual([]);
  });

  it.each([
    [{ ipAllowlist: ["10.0.0.0/8", "10.0.0.256"] }, 'ipAllowlist: "10.0.0.256" is not an IPv4 or IPv6 address or CIDR'],
    [{ ipAllowlist: Array.from({ length: 101 }, (_, i) => `10.0.${i}.1`) }, "ipAllowlist: at most 100 entries"],
    [{ ipAllowlist: "10.0.0.0/8" }, "ipAllowlist: must be an array of strings, got string"],
    [{ ipAllowlist: [10] }, "ipAllowlist: must be an array of strings, got number"],
  ])("refuses %j with a 400 naming the problem, creating nothing", async (json, detail) => {
    const before = await keyIds();
    const reply = await org.user("POST", "/v1/api-keys", { json: { name: "x", ...json } });
    expect(reply.status).toBe(400);
    expect(reply.headers.get("content-type")).toBe("application/problem+json");
    expect(reply.body).toMatchObject({ status: 400, code: "invalid_argument", detail });
    expect(await keyIds()).toEqual(before);
  });

  it("deny a key used from outside: 403 ip_not_allowed on the dashboard API too", async () => {
    const elsewhere = await org.make({ ipAllowlist: ["10.0.0.0/8"] });
    const reply = await org.as(elsewhere)("GET", "/v1/api-keys");
    expect(reply.status).toBe(403);
    expect(reply.headers.get("content-type")).toBe("application/problem+json");
    expect(reply.body).toMatchObject({ status: 403, code: "ip_not_allowed", detail: "API key is not allowed from this IP address" });
    const here = await org.make({ ipAllowlist: ["127.0.0.1", "::1"] });
    expect((await org.as(here)("GET", "/v1/api-keys")).status).toBe(200);
  });
});

describe("credits over REST", () => {
  it("are set on create, spent by each request, adjusted and removed by PATCH", async () => {
    const key = await org.make({ credits: { remaining: 2, refill: { interval: "daily", amount: 10 } } });
    expect(key.credits).toEqual({ remaining: 2, refill: { interval: "daily", amount: 10 } });
    const api = org.as(key);
    expect((await api("GET", `/v1/api-keys/${key.id}`)).body.credits.remaining).toBe(1);
    expect((await api("GET", `/v1/api-keys/${key.id}`)).body.credits.remaining).toBe(0);
    const exhausted = await api("GET", `/v1/api-keys/${key.id}`);
    expect(exhausted.status).toBe(429);
    expect(exhausted.body).toMatchObject({ status: 429, code: "usage_exceeded" });
    expect(Number(exhausted.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(exhausted.headers.get("retry-after"))).toBeLessThanOrEqual(86_400);

    const adjusted = await org.user("PATCH", `/v1/api-keys/${key.id}`, { json: { credits: { remaining: 5 } } });
    expect(adjusted.status, JSON.stringify(adjusted.body)).toBe(200);
    expect(adjusted.body.credits).toEqual({ remaining: 5, refill: null });
    expect((await api("GET", `/v1/api-keys/${key.id}`)).body.credits).toEqual({ remaining: 4, refill: null });
    const removed = await org.user("PATCH", `/v1/api-keys/${key.id}`, { json: { credits: null } });
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body.credits).toBeNull();
    expect((await api("GET", `/v1/api-keys/${key.id}`)).body.credits).toBeNull();
  });

  it.each([
    [{ credits: { remaining: -1 } }, "credits.remaining: must be an integer from 0 to 1000000000000"],
    [{ credits: { remaining: "5" } }, "credits.remaining: must be an integer from 0 to 1000000000000"],
    [{ credits: {} }, "credits.remaining: must be an integer from 0 to 1000000000000"],
    [{ credits: { remaining: 1, refill: { interval: "weekly", amount: 1 } } }, 'credits.refill.interval: must be "daily" or "monthly"'],
    [{ credits: { remaining: 1, refill: { interval: "daily", amount: 0 } } }, "credits.refill.amount: must be an integer from 1 to 1000000000000"],
    [{ credits: { remaining: 1, extra: true } }, 'credits: unknown field "extra" (known: remaining, refill)'],
    [{ credits: { remaining: { $gt: 0 } } }, "credits.remaining: must be an integer from 0 to 1000000000000"],
    [{ credits: 5 }, "credits: must be a JSON object"],
  ])("refuses %j with a 400, creating nothing", async (json, detail) => {
    const before = await keyIds();
    const reply = await org.user("POST", "/v1/api-keys", { json: { name: "x", ...json } });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ code: "invalid_argument", detail });
    expect(await keyIds()).toEqual(before);
  });
});

describe("GET /v1/api-keys/{id}/usage", () => {
  it("answers the key's verdicts by hour and by day, once written (every 100 ms here)", async () => {
    const key = await org.make({ scopes: ["api_keys:read"] });
    const api = org.as(key);
    expect((await api("GET", "/v1/api-keys")).status).toBe(200);
    expect((await api("GET", "/v1/api-keys?limit=0")).status).toBe(400); // allowed by Verify, refused by the route
    expect((await api("POST", "/v1/api-keys", { json: { name: "x" } })).status).toBe(403); // INSUFFICIENT_SCOPE
    const now = Date.now();
    const hour = new Date(now - (now % 3_600_000)).toISOString();
    const day = new Date(now - (now % 86_400_000)).toISOString();

    const used = (buckets: Array<{ allowed: number; denied: number }>) => buckets.filter((b) => b.allowed + b.denied > 0);
    await eventually(async () => {
      const reply = await org.user("GET", `/v1/api-keys/${key.id}/usage`);
      return used(reply.body.buckets).length > 0 && used(reply.body.buckets)[0]?.denied === 1;
    });
    const hourly = await org.user("GET", `/v1/api-keys/${key.id}/usage?granularity=hour`);
    expect(hourly.status).toBe(200);
    expect(hourly.body.buckets).toHaveLength(25);
    expect(used(hourly.body.buckets)).toEqual([{ start: hour, allowed: 2, denied: 1, deniedByCode: { INSUFFICIENT_SCOPE: 1 } }]);
    const start = new Date(now - 2 * 86_400_000).toISOString();
    const daily = await org.user("GET", `/v1/api-keys/${key.id}/usage?granularity=day&start=${start}`);
    expect(daily.body.buckets).toHaveLength(3);
    expect(used(daily.body.buckets)).toEqual([{ start: day, allowed: 2, denied: 1, deniedByCode: { INSUFFICIENT_SCOPE: 1 } }]);
    // A key that may read keys may read usage too.
    expect((await api("GET", `/v1/api-keys/${key.id}/usage`)).status).toBe(200);
  });

  it("is 404 for another organization's key and 400 for a bad range or granularity", async () => {
    const other = await dashboardOrganization(service);
    const foreign = await other.make({});
    expect((await org.user("GET", `/v1/api-keys/${foreign.id}/usage`)).status).toBe(404);
    const mine = await org.make({});
    for (const [query, detail] of [
      ["granularity=week", 'granularity: must be "hour" or "day"'],
      ["start=2030-01-02T00:00:00Z&end=2030-01-01T00:00:00Z", "start: must be before end"],
      ["start=2030-01-01T00:00:00Z&end=2030-06-01T00:00:00Z", "end: must be at most 90 days after start"],
      ["start=yesterday", "start: must be an ISO 8601 date-time with a time zone, like 2030-01-31T12:00:00Z"],
      ["limit=5", 'query: unknown parameter "limit" (known: start, end, granularity)'],
    ]) {
      const reply = await org.user("GET", `/v1/api-keys/${mine.id}/usage?${query}`);
      expect(reply.status, query).toBe(400);
      expect(reply.body.detail).toBe(detail);
    }
  });
});
