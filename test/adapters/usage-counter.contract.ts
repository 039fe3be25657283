/**
 * The UsageCounter contract: both adapters add and read hourly counts alike,
 * from one process or two (`other`: a second process's counter on the same
 * store).
 */
import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { addCounts } from "../../src/domain/usage.js";
import type { UsageCount } from "../../src/domain/usage.js";
import type { UsageCounter } from "../../src/ports/usage-counter.js";

const hour = (iso: string) => new Date(iso);

/** The parts of each hour added up, oldest first. */
async function read(counter: UsageCounter, keyId: string, start: string, end: string): Promise<UsageCount[]> {
  const hours = new Map<number, UsageCount>();
  let previous = -Infinity;
  for (const part of await counter.hourly(keyId, hour(start), hour(end))) {
    expect(part.hour.getTime()).toBeGreaterThanOrEqual(previous);
    previous = part.hour.getTime();
    const sum = hours.get(previous);
    if (sum) addCounts(sum, part);
    else hours.set(previous, structuredClone(part));
  }
  return [...hours.values()];
}

export function usageCounterContract(name: string, open: () => Promise<{ counter: UsageCounter; other: UsageCounter }>): void {
  describe(`UsageCounter contract: ${name}`, () => {
    let counter: UsageCounter;
    let other: UsageCounter;
    let key: string;
    const count = (at: string, allowed: number, deniedByCode: Record<string, number> = {}, keyId = key): UsageCount => ({
      keyId,
      organizationId: "org-a",
      hour: hour(at),
      allowed,
      denied: Object.values(deniedByCode).reduce((a, b) => a + b, 0),
      deniedByCode,
    });

    beforeEach(async () => {
      ({ counter, other } = await open());
      key = randomUUID();
    });

    it("reads back what was added, oldest hour first", async () => {
      await counter.add([count("2030-01-01T11:00:00Z", 2, { RATE_LIMITED: 1 }), count("2030-01-01T10:00:00Z", 3)]);
      expect(await read(counter, key, "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z")).toEqual([
        count("2030-01-01T10:00:00Z", 3),
        count("2030-01-01T11:00:00Z", 2, { RATE_LIMITED: 1 }),
      ]);
    });

    it("adds to an hour already stored, code by code, from one process or two", async () => {
      await counter.add([count("2030-01-01T10:00:00Z", 1, { KEY_REVOKED: 2 })]);
      await counter.add([count("2030-01-01T10:00:00Z", 4, { KEY_REVOKED: 1, IP_NOT_ALLOWED: 3 })]);
      await Promise.all([
        counter.add([count("2030-01-01T10:00:00Z", 10)]),
        other.add([count("2030-01-01T10:00:00Z", 100, { RATE_LIMITED: 1 })]),
      ]);
      expect(await read(counter, key, "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z")).toEqual([
        count("2030-01-01T10:00:00Z", 115, { KEY_REVOKED: 3, IP_NOT_ALLOWED: 3, RATE_LIMITED: 1 }),
      ]);
    });

    it("reads one key's hours in [start, end) only", async () => {
      const other = randomUUID();
      await counter.add([
        count("2030-01-01T09:00:00Z", 1),
        count("2030-01-01T10:00:00Z", 1),
        count("2030-01-01T11:00:00Z", 1),
        count("2030-01-01T10:00:00Z", 7, {}, other),
      ]);
      const hours = await read(counter, key, "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z");
      expect(hours.map((c) => [c.hour.toISOString(), c.allowed])).toEqual([["2030-01-01T10:00:00.000Z", 1]]);
      expect(await counter.hourly(randomUUID(), hour("2030-01-01T00:00:00Z"), hour("2030-01-02T00:00:00Z"))).toEqual([]);
    });

    it("takes many keys and hours in one add, and an empty one", async () => {
      const keys = Array.from({ length: 20 }, () => randomUUID());
      await counter.add([]);
      await counter.add(keys.flatMap((k) => [count("2030-01-01T10:00:00Z", 1, {}, k), count("2030-01-01T12:00:00Z", 2, {}, k)]));
      for (const k of keys) {
        const hours = await read(counter, k, "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z");
        expect(hours.map((c) => c.allowed)).toEqual([1, 2]);
      }
    });
  });
}
