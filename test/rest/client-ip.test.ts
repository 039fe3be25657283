/**
 * The client IP the REST API records (audit events) and hands to Verify (IP
 * allowlists): the socket peer, or — only behind a proxy listed in
 * KEYWARD_TRUSTED_PROXIES — X-Forwarded-For read right to left past the
 * trusted hops. A client-sent X-Forwarded-For never counts by default.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestKeyward } from "../support/keyward.js";
import { bearer, call, newOrganizationId, startRestKeyward, userToken } from "./support.js";

async function recordedIp(service: TestKeyward, forwardedFor?: string): Promise<string> {
  const org = newOrganizationId();
  const auth = bearer(await userToken(org));
  const headers = { ...auth, ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}) };
  const created = await call(service.keyward.server.httpUrl, "POST", "/v1/api-keys", { headers, json: { name: "ip" } });
  expect(created.status).toBe(201);
  const events = await call(service.keyward.server.httpUrl, "GET", "/v1/audit-events", { headers: auth });
  const [event] = events.body as Array<{ action: string; clientIp: string }>;
  expect(event?.action).toBe("api_key.create");
  return event?.clientIp ?? "";
}

describe("client IP without trusted proxies (default)", () => {
  let service: TestKeyward;
  beforeAll(async () => {
    service = await startRestKeyward();
  });
  afterAll(() => service.stop());

  it("is the socket peer; a client-sent X-Forwarded-For is ignored", async () => {
    expect(await recordedIp(service)).toBe("127.0.0.1");
    expect(await recordedIp(service, "203.0.113.9")).toBe("127.0.0.1");
  });
});

describe("client IP behind a trusted proxy", () => {
  let service: TestKeyward;
  beforeAll(async () => {
    service = await startRestKeyward({ KEYWARD_TRUSTED_PROXIES: "127.0.0.0/8, 10.0.0.0/8" });
  });
  afterAll(() => service.stop());

  it("is the right-most X-Forwarded-For hop that is not a trusted proxy", async () => {
    expect(await recordedIp(service, "203.0.113.9")).toBe("203.0.113.9");
    // The client may prepend anything; only what trusted hops appended counts.
    expect(await recordedIp(service, "198.51.100.1, 203.0.113.9, 10.1.2.3")).toBe("203.0.113.9");
    expect(await recordedIp(service, "2001:db8::7")).toBe("2001:db8::7");
    expect(await recordedIp(service)).toBe("127.0.0.1");
  });
});
