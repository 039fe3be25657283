/**
 * A cache miss costs one storage read: the lookup by hash (`$or` on the
 * current and the previous hash, both indexed). Counted from the service's
 * own storage metrics, so any extra read a change would add shows up here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";
import { scrape } from "../support/metrics.js";

let service: TestKeyward;

beforeAll(async () => {
  service = await startTestKeyward({ env: { KEYWARD_USAGE_FLUSH_MS: "3600000" } });
});
afterAll(() => service?.stop());

/** Storage operations so far by name, but the readiness ping each scrape makes. */
async function storageOperations(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const line of (await scrape(service.keyward.server.httpUrl)).split("\n")) {
    const match = /^keyward_storage_operation_duration_seconds_count\{operation="([^"]+)",outcome="[^"]+"\} (\d+)/.exec(line);
    if (match?.[1] && match[1] !== "ping") counts.set(match[1], (counts.get(match[1]) ?? 0) + Number(match[2]));
  }
  return counts;
}

describe("storage reads per Verify", () => {
  it("a miss on a known organization is one read (find key by hash); a hit is none", async () => {
    const clients = service.clients("grpc");
    const org = await newOrganization(clients);
    const warm = await newKey(clients, org);
    expect((await clients.auth.verify({ headers: bearer(warm.key) })).code).toBe(VerifyCode.OK); // the organization is cached now
    const keys = await Promise.all(Array.from({ length: 5 }, () => newKey(clients, org)));

    const before = await storageOperations();
    for (const { key } of keys) expect((await clients.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.OK);
    for (const { key } of keys) expect((await clients.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.OK);
    const after = await storageOperations();

    const added = [...after].map(([name, n]) => [name, n - (before.get(name) ?? 0)] as const).filter(([, n]) => n > 0);
    expect(Object.fromEntries(added)).toEqual({ "find key by hash": 5 });
  });
});
