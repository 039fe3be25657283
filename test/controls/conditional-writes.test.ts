/**
 * A key change is a conditional write on the grant it was judged on. A write
 * that misses while the key still stands as judged — what changed was a
 * field the decision never read (FerretDB v1's read-then-write
 * findOneAndUpdate trips over any write to the document at the same moment;
 * the store double here writes last_used_at) — is tried again, up to four
 * writes in all; a change of the grant meanwhile is still a conflict.
 */
import { describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import type { KeyChanges, UpdateConditions } from "../../src/ports/key-store.js";
import { keyLifecycle, SERVICE_CONTEXT } from "../support/use-cases.js";

/** The embedded store, whose next `misses` conditional writes miss, each after `meanwhile` ran. */
class Missing extends MemoryKeyStore {
  meanwhile: (() => Promise<void>) | null = null;
  misses = 0;
  writes = 0;

  override async update(organizationId: string, id: string, changes: KeyChanges, conditions?: UpdateConditions) {
    this.writes++;
    if (this.misses > 0 && this.meanwhile) {
      this.misses--;
      await this.meanwhile();
      return null;
    }
    return super.update(organizationId, id, changes, conditions);
  }
}

async function setUp() {
  const store = new Missing();
  const apiKeys = keyLifecycle(store);
  const issued = await apiKeys.create(SERVICE_CONTEXT, { organizationId: "org-cw", name: "k", scopes: ["send"] });
  return { store, apiKeys, id: issued.record.id };
}

describe("conditional key writes", () => {
  it("are tried again when only a field the decision did not read changed (last_used_at), a bounded number of times", async () => {
    const { store, apiKeys, id } = await setUp();
    store.meanwhile = () => store.recordUsage([{ id, at: new Date() }]);
    store.misses = 1;
    const updated = await apiKeys.update(SERVICE_CONTEXT, "org-cw", id, { name: "renamed" });
    expect(updated.name).toBe("renamed");
    expect(store.writes).toBe(2);

    // A busy key: the usage batch lands three times in a row.
    store.misses = 3;
    store.writes = 0;
    expect((await apiKeys.update(SERVICE_CONTEXT, "org-cw", id, { name: "again" })).name).toBe("again");
    expect(store.writes).toBe(4);

    // Never without end: past four writes it is a conflict, and nothing changed.
    store.misses = 4;
    store.writes = 0;
    await expect(apiKeys.update(SERVICE_CONTEXT, "org-cw", id, { name: "never" })).rejects.toMatchObject({ code: "failed_precondition" });
    expect(store.writes).toBe(4);
    expect((await apiKeys.get("org-cw", id)).name).toBe("again");

    store.misses = 1;
    const revoked = await apiKeys.revoke(SERVICE_CONTEXT, "org-cw", id);
    expect(revoked.active).toBe(false);
  });

  it("stay a conflict when the grant changed meanwhile", async () => {
    const { store, apiKeys, id } = await setUp();
    store.meanwhile = async () => {
      await store.update("org-cw", id, { scopes: ["read"] });
    };
    store.misses = 1;
    await expect(apiKeys.update(SERVICE_CONTEXT, "org-cw", id, { name: "renamed" })).rejects.toMatchObject({
      code: "failed_precondition",
      message: "api key changed concurrently; retry",
    });
    expect((await apiKeys.get("org-cw", id)).name).toBe("k");
  });
});
