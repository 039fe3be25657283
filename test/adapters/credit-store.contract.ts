/**
 * The CreditStore contract, and the charges built on it (app/credits.ts):
 * every adapter records exactly one change per version, so charges spend
 * exactly, never below zero, and refill once per period, under any
 * concurrency — several chargers (as several replicas) on one store too.
 */
import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { CreditCharger, setCredits } from "../../src/app/credits.js";
import type { CreditCharge } from "../../src/app/credits.js";
import type { KeyCredits, Refill } from "../../src/domain/credits.js";
import type { CreditStore } from "../../src/ports/credit-store.js";
import type { KeyStore } from "../../src/ports/key-store.js";
import { sampleRecord } from "./key-store.contract.js";

const DAILY_100: Refill = { interval: "daily", amount: 100 };
const at = (iso: string) => new Date(iso);
const charged = (charges: readonly CreditCharge[]) => charges.filter((c) => c.charged === true);

export function creditStoreContract(name: string, open: () => Promise<{ keys: KeyStore; credits: CreditStore }>): void {
  describe(`CreditStore contract: ${name}`, () => {
    let keys: KeyStore;
    let store: CreditStore;
    let org: string;

    beforeEach(async () => {
      ({ keys, credits: store } = await open());
      org = `org-${randomUUID()}`;
    });

    async function keyWith(credits: KeyCredits | null): Promise<string> {
      const record = sampleRecord({ organizationId: org, credits });
      await keys.insert(record);
      return record.id;
    }

    it("starts from the credits the key was created with, version 0", async () => {
      const credits = { remaining: 5, refill: DAILY_100, refilledAt: at("2030-01-02T00:00:00Z") };
      const id = await keyWith(credits);
      expect(await store.current(id)).toMatchObject({ version: 0, credits });
      expect(await store.current(await keyWith(null))).toMatchObject({ version: 0, credits: null });
      expect(await store.current(randomUUID())).toBeNull();
    });

    it("records one change per version: of two commits on one state, only the first", async () => {
      const id = await keyWith({ remaining: 5, refill: null, refilledAt: null });
      const base = await store.current(id);
      if (!base) throw new Error("no credits");
      expect(await store.commit(id, base, { remaining: 4, refill: null, refilledAt: null })).toBe(true);
      expect(await store.commit(id, base, { remaining: 3, refill: null, refilledAt: null })).toBe(false);
      const next = await store.current(id);
      expect(next).toMatchObject({ version: 1, credits: { remaining: 4 } });
      if (!next) throw new Error("no credits");
      expect(await store.commit(id, next, null)).toBe(true);
      expect(await store.current(id)).toMatchObject({ version: 2, credits: null });
    });

    it("lets exactly one of many concurrent commits on one state through", async () => {
      const id = await keyWith({ remaining: 100, refill: null, refilledAt: null });
      const base = await store.current(id);
      if (!base) throw new Error("no credits");
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.commit(id, base, { remaining: i, refill: null, refilledAt: null })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it("charges exactly: 200 concurrent charges through two chargers (two replicas), 50 credits, 50 charged", async () => {
      const id = await keyWith({ remaining: 50, refill: null, refilledAt: null });
      const replicas = [new CreditCharger(store), new CreditCharger(store)];
      const charges = await Promise.all(
        Array.from({ length: 200 }, (_, i) => (replicas[i % 2] as CreditCharger).charge(id, 1, new Date())),
      );
      expect(charged(charges)).toHaveLength(50);
      expect(new Set(charged(charges).map((c) => (c.charged === true ? c.remaining : -1)))).toEqual(
        new Set(Array.from({ length: 50 }, (_, i) => i)),
      );
      expect(charges.filter((c) => c.charged === false)).toHaveLength(150);
      expect((await store.current(id))?.credits?.remaining).toBe(0);
    });

    it("spends a cost whole or not at all, never below zero", async () => {
      const id = await keyWith({ remaining: 5, refill: null, refilledAt: null });
      const charger = new CreditCharger(store);
      expect(await charger.charge(id, 3, new Date())).toEqual({ charged: true, remaining: 2 });
      expect(await charger.charge(id, 3, new Date())).toEqual({ charged: false, remaining: 2, retryAfterMs: null });
      expect(await charger.charge(id, 2, new Date())).toEqual({ charged: true, remaining: 0 });
      expect((await store.current(id))?.credits?.remaining).toBe(0);
    });

    it("refills lazily at the first charge of a new UTC day, once however many race", async () => {
      const id = await keyWith({ remaining: 0, refill: DAILY_100, refilledAt: at("2030-01-02T00:00:00Z") });
      const replicas = [new CreditCharger(store), new CreditCharger(store)];
      expect(await replicas[0]?.charge(id, 1, at("2030-01-02T23:59:59Z"))).toEqual({ charged: false, remaining: 0, retryAfterMs: 1000 });
      const justAfter = at("2030-01-03T00:00:00.001Z");
      const charges = await Promise.all(Array.from({ length: 150 }, (_, i) => (replicas[i % 2] as CreditCharger).charge(id, 1, justAfter)));
      expect(charged(charges)).toHaveLength(100);
      expect((await store.current(id))?.credits).toEqual({ remaining: 0, refill: DAILY_100, refilledAt: at("2030-01-03T00:00:00Z") });
    });

    it("refills monthly on the first of the month (UTC), and says when the next refill is", async () => {
      const monthly: Refill = { interval: "monthly", amount: 10 };
      const id = await keyWith({ remaining: 1, refill: monthly, refilledAt: at("2030-01-01T00:00:00Z") });
      const charger = new CreditCharger(store);
      expect(await charger.charge(id, 2, at("2030-01-31T12:00:00Z"))).toEqual({ charged: false, remaining: 1, retryAfterMs: 12 * 3_600_000 });
      expect(await charger.charge(id, 2, at("2030-02-01T00:00:00Z"))).toEqual({ charged: true, remaining: 8 });
    });

    it("refills without spending when the refill cannot cover the cost", async () => {
      const small: Refill = { interval: "daily", amount: 5 };
      const id = await keyWith({ remaining: 0, refill: small, refilledAt: at("2030-01-02T00:00:00Z") });
      const charger = new CreditCharger(store);
      expect(await charger.charge(id, 6, at("2030-01-03T06:00:00Z"))).toEqual({ charged: false, remaining: 5, retryAfterMs: 18 * 3_600_000 });
      expect(await charger.charge(id, 5, at("2030-01-03T07:00:00Z"))).toEqual({ charged: true, remaining: 0 });
    });

    it("keeps a set made while charges race: the charges after it spend from it", async () => {
      const id = await keyWith({ remaining: 1000, refill: null, refilledAt: null });
      const charger = new CreditCharger(store);
      const racing = Array.from({ length: 20 }, () => charger.charge(id, 1, new Date()));
      await setCredits(store, id, { remaining: 10, refill: null, refilledAt: null });
      await Promise.all(racing);
      const after = await Promise.all(Array.from({ length: 20 }, () => charger.charge(id, 1, new Date())));
      // Had a racing spend overwritten the set, ~980 would be left and all 20 would pass.
      expect(charged(after).length).toBeLessThanOrEqual(10);
      expect((await store.current(id))?.credits?.remaining).toBe(0);
      await setCredits(store, id, null);
      expect(await charger.charge(id, 1, new Date())).toEqual({ charged: "unlimited" });
    });

    it("charges nothing on a key without credits", async () => {
      const id = await keyWith(null);
      expect(await new CreditCharger(store).charge(id, 1, new Date())).toEqual({ charged: "unlimited" });
      expect(await store.current(id)).toMatchObject({ version: 0, credits: null });
    });
  });
}
