/**
 * A key change is a conditional write on the grant it was judged on. A write
 * that misses while the key still stands as judged — what changed was a
 * field the decision never read, like last_used_at, which FerretDB v1's
 * read-then-write findOneAndUpdate can trip over when the usage batch writes
 * it at the same moment — is tried again; a change of the grant meanwhile is
 * still a conflict.
 */
import { describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import type { KeyChanges, UpdateConditions } from "../../src/ports/key-store.js";
import { keyLifecycle, SERVICE_CONTEXT } from "../support/use-cases.js";

/** The embedded store, whose next conditional write misses once, after `meanwhile` ran. */
class MissingOnce extends MemoryKeyStore {
  miss: (() => Promise<void>) | null = null;
  writes = 0;

  override async update(organizationId: string, id: string, changes: KeyChanges, conditions?: UpdateConditions) {
    this.writes++;
    const meanwhile = this.miss;
    if (meanwhile) {
      this.miss = null;
      await meanwhile();
      return null;
    }
    return super.update(organizationId, id, changes, conditions);
  }
}

async function setUp() {
  const store = new MissingOnce();
  const apiKeys = keyLifecycle(store);
  const issued = await apiKeys.create(SERVICE_CONTEXT, { organizationId: "org-cw", name: "k", scopes: ["send"] });
  return { store, apiKeys, id: issued.record.id };
}

describe("conditional key writes", () => {
  it("retry once when only a field the decision did not read changed (last_used_at)", async () => {
    const { store, apiKeys, id } = await setUp();
    store.miss = () => store.recordUsage([{ id, at: new Date() }]);
    const updated = await apiKeys.update(SERVICE_CONTEXT, "org-cw", id, { name: "renamed" });
    expect(updated.name).toBe("renamed");
    expect(store.writes).toBe(2);

    store.miss = () => store.recordUsage([{ id, at: new Date() }]);
    const revoked = await apiKeys.revoke(SERVICE_CONTEXT, "org-cw", id);
    expect(revoked.active).toBe(false);
  });

  it("stay a conflict when the grant changed meanwhile", async () => {
    const { store, apiKeys, id } = await setUp();
    store.miss = async () => {
      await store.update("org-cw", id, { scopes: ["read"] });
    };
    await expect(apiKeys.update(SERVICE_CONTEXT, "org-cw", id, { name: "renamed" })).rejects.toMatchObject({
      code: "failed_precondition",
      message: "api key changed concurrently; retry",
    });
    expect((await apiKeys.get("org-cw", id)).name).toBe("k");
  });
});
