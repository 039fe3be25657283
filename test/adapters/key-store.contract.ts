/**
 * The KeyStore contract: every adapter must pass the same suite, so the
 * embedded store and MongoDB cannot drift apart.
 */
import { randomUUID } from "node:crypto";
import { v7 as uuidv7 } from "uuid";
import { beforeEach, describe, expect, it } from "vitest";
import type { ApiKeyRecord } from "../../src/domain/api-key.js";
import { generateKey } from "../../src/domain/key-format.js";
import type { KeyStore } from "../../src/ports/key-store.js";

export function sampleRecord(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const secret = generateKey(overrides.mode ?? "live");
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  return {
    id: uuidv7(),
    organizationId: "org-a",
    name: "Production",
    mode: "live",
    kind: "standard",
    scopes: ["send"],
    workspaceId: null,
    hash: secret.hash,
    hint: secret.hint,
    previous: null,
    active: true,
    enabled: true,
    metadata: { team: "core" },
    expiresAt: null,
    lastUsedAt: null,
    createdAt: now,
    updatedAt: now,
    revokedAt: null,
    rateLimit: null,
    ipAllowlist: [],
    credits: null,
    ...overrides,
  };
}

export function keyStoreContract(name: string, open: () => Promise<KeyStore>): void {
  describe(`KeyStore contract: ${name}`, () => {
    let store: KeyStore;
    let org: string;

    beforeEach(async () => {
      store = await open();
      org = `org-${randomUUID()}`;
    });

    it("finds an inserted key by its hash, unchanged", async () => {
      const record = sampleRecord({
        organizationId: org,
        expiresAt: new Date(Date.now() + 3_600_000),
        rateLimit: { limit: 10, windowMs: 60_000 },
      });
      await store.insert(record);
      const found = await store.findByHash(record.hash);
      expect(found).toEqual({ record, matched: "current" });
      expect(await store.findByHash("0".repeat(64))).toBeNull();
    });

    it("rejects a second record with the same hash", async () => {
      const record = sampleRecord({ organizationId: org });
      await store.insert(record);
      await expect(store.insert({ ...record, id: uuidv7() })).rejects.toMatchObject({
        code: "failed_precondition",
      });
    });

    it("scopes get, list and update to the organization", async () => {
      const record = sampleRecord({ organizationId: org });
      await store.insert(record);
      expect(await store.get(org, record.id)).toEqual(record);
      expect(await store.get("someone-else", record.id)).toBeNull();
      expect(await store.list("someone-else", { limit: 10 })).toEqual([]);
      expect(await store.update("someone-else", record.id, { name: "stolen" })).toBeNull();
      expect((await store.get(org, record.id))?.name).toBe("Production");
    });

    it("lists newest first, filtered by mode and active, paged by id", async () => {
      const records: ApiKeyRecord[] = [];
      for (let i = 0; i < 5; i++) {
        const record = sampleRecord({ organizationId: org, mode: i % 2 === 0 ? "live" : "test", name: `k${i}` });
        await store.insert(record);
        records.push(record);
      }
      const newestFirst = [...records].reverse().map((r) => r.name);
      expect((await store.list(org, { limit: 10 })).map((r) => r.name)).toEqual(newestFirst);
      const firstPage = await store.list(org, { limit: 2 });
      expect(firstPage.map((r) => r.name)).toEqual(["k4", "k3"]);
      const secondPage = await store.list(org, { limit: 2, beforeId: firstPage[1]?.id ?? "" });
      expect(secondPage.map((r) => r.name)).toEqual(["k2", "k1"]);
      expect((await store.list(org, { limit: 10, mode: "test" })).map((r) => r.name)).toEqual(["k3", "k1"]);
      await store.update(org, records[0]?.id ?? "", { active: false, revokedAt: new Date() });
      expect((await store.list(org, { limit: 10, active: false })).map((r) => r.name)).toEqual(["k0"]);
      expect(await store.list(org, { limit: 10, active: true })).toHaveLength(4);
    });

    it("updates under conditions and answers the record after the change", async () => {
      const record = sampleRecord({ organizationId: org });
      await store.insert(record);
      const updated = await store.update(org, record.id, { name: "Renamed", scopes: [], enabled: false });
      expect(updated).toMatchObject({ name: "Renamed", scopes: [], enabled: false, hash: record.hash });
      expect(await store.update(org, record.id, { name: "x" }, { ifHash: "f".repeat(64) })).toBeNull();
      await store.update(org, record.id, { active: false });
      expect(await store.update(org, record.id, { name: "x" }, { onlyActive: true })).toBeNull();
    });

    it("updates only while the scopes are exactly the ones given (the grant a decision saw)", async () => {
      const record = sampleRecord({ organizationId: org, scopes: ["send", "read"] });
      await store.insert(record);
      for (const other of [["send"], ["read", "send"], ["send", "read", "cancel"], []]) {
        expect(await store.update(org, record.id, { name: "x" }, { ifScopes: other })).toBeNull();
      }
      expect(await store.update(org, record.id, { scopes: [] }, { ifScopes: ["send", "read"] })).toMatchObject({ scopes: [] });
      expect(await store.update(org, record.id, { name: "Unscoped" }, { ifScopes: ["send"] })).toBeNull();
      expect(await store.update(org, record.id, { name: "Unscoped" }, { ifScopes: [] })).toMatchObject({ name: "Unscoped" });
    });

    it("finds a rolled key by its previous secret until that secret is replaced", async () => {
      const record = sampleRecord({ organizationId: org });
      await store.insert(record);
      const next = generateKey("live");
      const previous = { hash: record.hash, hint: record.hint, expiresAt: new Date(Date.now() + 60_000) };
      await store.update(org, record.id, { hash: next.hash, hint: next.hint, previous }, { ifHash: record.hash });
      expect((await store.findByHash(next.hash))?.matched).toBe("current");
      const old = await store.findByHash(record.hash);
      expect(old?.matched).toBe("previous");
      expect(old?.record.previous).toEqual(previous);
      await store.update(org, record.id, { previous: null });
      expect(await store.findByHash(record.hash)).toBeNull();
    });

    it("moves last_used_at forward only", async () => {
      const record = sampleRecord({ organizationId: org });
      await store.insert(record);
      const later = new Date(Math.floor(Date.now() / 1000) * 1000 + 5000);
      await store.recordUsage([{ id: record.id, at: later }]);
      await store.recordUsage([{ id: record.id, at: new Date(later.getTime() - 3000) }]);
      expect((await store.get(org, record.id))?.lastUsedAt).toEqual(later);
      expect((await store.list(org, { limit: 10 })).find((r) => r.id === record.id)?.lastUsedAt).toEqual(later);
    });

    it("records a key's first use written by two replicas at once", async () => {
      const record = sampleRecord({ organizationId: org });
      await store.insert(record);
      const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 7000);
      await Promise.all([store.recordUsage([{ id: record.id, at }]), store.recordUsage([{ id: record.id, at }])]);
      expect((await store.get(org, record.id))?.lastUsedAt).toEqual(at);
    });

    it("never lets last_used_at, written at the same moment, undo a change of the key", async () => {
      // The usage batch writes last_used_at while a PATCH changes the key: both must stand.
      const record = sampleRecord({ organizationId: org });
      await store.insert(record);
      for (let i = 1; i <= 60; i++) {
        const at = new Date(Date.now() + i * 1000);
        const [changed] = await Promise.all([
          store.update(org, record.id, { name: `name ${i}` }, { onlyActive: true }),
          (async () => {
            await store.recordUsage([{ id: record.id, at }]);
            await store.recordUsage([{ id: record.id, at: new Date(at.getTime() - 500) }]);
          })(),
        ]);
        expect(changed?.name, `round ${i}`).toBe(`name ${i}`);
        const stored = await store.get(org, record.id);
        expect(stored?.name, `round ${i}`).toBe(`name ${i}`);
        expect(stored?.lastUsedAt, `round ${i}`).toEqual(at);
      }
    });
  });
}
