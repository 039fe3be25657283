/**
 * Usage analytics on the real server (FerretDB): every verdict about a known
 * key is counted per hour and outcome, written in batches, and read back by
 * hour or by day with GetApiKeyUsage.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageGranularity } from "../../gen/authn/v1/api_key_pb.js";
import type { GetApiKeyUsageResponse } from "../../gen/authn/v1/api_key_pb.js";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { MemoryUsageCounter } from "../../src/adapters/memory/memory-usage-counter.js";
import { UsageBatcher } from "../../src/app/usage-batcher.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";
import { startTestKeyward } from "../support/keyward.js";
import type { Clients, TestKeyward } from "../support/keyward.js";

let service: TestKeyward;
let clients: Clients;

beforeAll(async () => {
  // Nothing is written until the service stops (or a test flushes by stopping it).
  service = await startTestKeyward({ env: { KEYWARD_USAGE_FLUSH_MS: "3600000" } });
  clients = service.clients("grpc");
});
afterAll(async () => {
  await service?.stop();
});

const HOUR = 3_600_000;
const hourStart = (time: number) => new Date(time - (time % HOUR));
const dayStart = (time: number) => new Date(time - (time % (24 * HOUR)));
const totals = (res: GetApiKeyUsageResponse) =>
  res.buckets
    .filter((b) => b.allowed + b.denied > 0n)
    .map((b) => ({ start: timestampDate(b.start!).toISOString(), allowed: b.allowed, denied: b.denied, deniedByCode: b.deniedByCode }));

describe("usage analytics", () => {
  it("counts allowed and denied verdicts by code, per hour and per day, once flushed (on stop)", async () => {
    const database = `kw_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const first = await startTestKeyward({ env: { KEYWARD_MONGODB_DATABASE: database, KEYWARD_USAGE_FLUSH_MS: "3600000" } });
    const c = first.clients("grpc");
    const org = await newOrganization(c);
    const { id, key } = await newKey(c, org, { scopes: ["send"], ipAllowlist: ["10.0.0.0/8"], credits: { remaining: 3 } });
    const verify = (requiredScope: string, clientIp = "10.0.0.1") => c.auth.verify({ headers: bearer(key), requiredScope, clientIp });
    for (let i = 0; i < 4; i++) await verify("send"); // 3 allowed, then USAGE_EXCEEDED
    await verify("read"); // INSUFFICIENT_SCOPE
    await verify("send", "192.0.2.1"); // IP_NOT_ALLOWED
    await c.apiKeys.updateApiKey({ organizationId: org, id, enabled: false, updateMask: create(FieldMaskSchema, { paths: ["enabled"] }) });
    await verify("send"); // KEY_DISABLED
    // Verdicts without a known key are counted nowhere.
    await c.auth.verify({ headers: bearer(`${key.slice(0, -6)}AAAAAA`) });
    const now = Date.now();
    // Held in memory, not written per call.
    expect(totals(await c.apiKeys.getApiKeyUsage({ organizationId: org, id }))).toEqual([]);
    await first.stop(); // SIGTERM's path: the pending counts are flushed

    const second = await startTestKeyward({ env: { KEYWARD_MONGODB_DATABASE: database } });
    try {
      const expected = {
        allowed: 3n,
        denied: 4n,
        deniedByCode: { USAGE_EXCEEDED: 1n, INSUFFICIENT_SCOPE: 1n, IP_NOT_ALLOWED: 1n, KEY_DISABLED: 1n },
      };
      const hourly = await second.clients("grpc").apiKeys.getApiKeyUsage({ organizationId: org, id });
      expect(hourly.buckets).toHaveLength(25); // the last 24 hours, rounded out to whole hours
      expect(totals(hourly)).toEqual([{ start: hourStart(now).toISOString(), ...expected }]);
      const daily = await second.clients("grpc").apiKeys.getApiKeyUsage({ organizationId: org, id, granularity: UsageGranularity.DAY });
      expect(daily.buckets.length).toBeGreaterThanOrEqual(30);
      expect(totals(daily)).toEqual([{ start: dayStart(now).toISOString(), ...expected }]);
    } finally {
      await second.stop();
    }
  });

  it("answers every bucket of an explicit range, empty ones included, oldest first", async () => {
    const org = await newOrganization(clients);
    const { id } = await newKey(clients, org);
    const res = await clients.apiKeys.getApiKeyUsage({
      organizationId: org,
      id,
      start: timestampFromDate(new Date("2030-01-01T10:30:00Z")),
      end: timestampFromDate(new Date("2030-01-01T13:00:00Z")),
    });
    expect(res.buckets.map((b) => [timestampDate(b.start!).toISOString(), b.allowed, b.denied])).toEqual([
      ["2030-01-01T10:00:00.000Z", 0n, 0n],
      ["2030-01-01T11:00:00.000Z", 0n, 0n],
      ["2030-01-01T12:00:00.000Z", 0n, 0n],
    ]);
  });

  it("is NOT_FOUND for another organization's key, INVALID_ARGUMENT past 90 days or with start after end", async () => {
    const org = await newOrganization(clients);
    const { id } = await newKey(clients, org);
    const error = (call: Promise<unknown>) => call.then(() => null, (e: unknown) => e as ConnectError);
    expect((await error(clients.apiKeys.getApiKeyUsage({ organizationId: await newOrganization(clients), id })))?.code).toBe(Code.NotFound);
    const day = (iso: string) => timestampFromDate(new Date(iso));
    const tooLong = await error(clients.apiKeys.getApiKeyUsage({ organizationId: org, id, start: day("2030-01-01T00:00:00Z"), end: day("2030-04-02T00:00:00Z") }));
    expect(tooLong).toMatchObject({ code: Code.InvalidArgument, rawMessage: "end: must be at most 90 days after start" });
    const backwards = await error(clients.apiKeys.getApiKeyUsage({ organizationId: org, id, start: day("2030-01-02T00:00:00Z"), end: day("2030-01-01T00:00:00Z") }));
    expect(backwards).toMatchObject({ code: Code.InvalidArgument, rawMessage: "start: must be before end" });
    expect((await error(clients.apiKeys.getApiKeyUsage({ organizationId: org, id, granularity: 7 as UsageGranularity })))?.code).toBe(Code.InvalidArgument);
  });
});

describe("counting on the hot path", () => {
  it("touches no storage: 1000 verdicts are one write, at the flush", async () => {
    const writes: number[] = [];
    const counter = new MemoryUsageCounter();
    const batcher = new UsageBatcher(
      { keys: new MemoryKeyStore(), counter: { add: (counts) => (writes.push(counts.length), counter.add(counts)) } },
      { intervalMs: 3_600_000, onError: () => {} },
    );
    const at = new Date("2030-01-01T10:15:00Z");
    for (let i = 0; i < 1000; i++) batcher.countVerdict(`key-${i % 3}`, "org", i % 4 === 0 ? "RATE_LIMITED" : "OK", at);
    expect(writes).toEqual([]);
    await batcher.close();
    expect(writes).toEqual([3]); // one write: three keys' hour
    const [hour] = await counter.hourly("key-0", new Date("2030-01-01T10:00:00Z"), new Date("2030-01-01T11:00:00Z"));
    expect(hour).toMatchObject({ allowed: 250, denied: 84, deniedByCode: { RATE_LIMITED: 84 } });
  });

  it("keeps a batch that could not be written for the next flush", async () => {
    let fail = true;
    const counter = new MemoryUsageCounter();
    const batcher = new UsageBatcher(
      {
        keys: new MemoryKeyStore(),
        counter: { add: async (counts) => (fail ? Promise.reject(new Error("storage down")) : counter.add(counts)) },
      },
      { intervalMs: 3_600_000, onError: () => {} },
    );
    const at = new Date("2030-01-01T10:15:00Z");
    batcher.countVerdict("k", "org", "OK", at);
    await batcher.flush();
    batcher.countVerdict("k", "org", "KEY_REVOKED", at);
    fail = false;
    await batcher.close();
    expect(await counter.hourly("k", new Date("2030-01-01T10:00:00Z"), new Date("2030-01-01T11:00:00Z"))).toEqual([
      { keyId: "k", organizationId: "org", hour: new Date("2030-01-01T10:00:00Z"), allowed: 1, denied: 1, deniedByCode: { KEY_REVOKED: 1 } },
    ]);
  });
});
