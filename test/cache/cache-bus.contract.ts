/** The CacheBus contract: every adapter delivers to every subscriber, sender included. */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CacheBus, Invalidation } from "../../src/ports/cache-bus.js";
import { eventually } from "../support/eventually.js";

export function cacheBusContract(name: string, open: () => Promise<{ a: CacheBus; b: CacheBus }>): void {
  describe(`CacheBus contract: ${name}`, () => {
    it("delivers key and organization invalidations to every subscriber", async () => {
      const { a, b } = await open();
      const seenA: Invalidation[] = [];
      const seenB: Invalidation[] = [];
      await a.subscribe((i) => seenA.push(i), () => {});
      await b.subscribe((i) => seenB.push(i), () => {});
      const key: Invalidation = { type: "key", hashes: [randomUUID(), randomUUID()] };
      const org: Invalidation = { type: "organization", id: randomUUID() };
      await a.publish(key);
      await b.publish(org);
      await eventually(async () => seenA.length === 2 && seenB.length === 2, 40, 25);
      for (const seen of [seenA, seenB]) expect(seen).toEqual(expect.arrayContaining([key, org]));
      await a.close();
      await b.close();
    });
  });
}
