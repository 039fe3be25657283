/** last_used_at is written in batches, off the hot path, and flushed on shutdown. */
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openMongo, startTestKeyward } from "../support/keyward.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";

let mongo: MongoClient;
beforeAll(async () => {
  mongo = await openMongo();
});
afterAll(() => mongo?.close());

describe("last_used_at", () => {
  it("is not written per request, and is flushed when the service stops", async () => {
    const service = await startTestKeyward({ env: { KEYWARD_USAGE_FLUSH_MS: "3600000" } });
    const clients = service.clients("grpc");
    const org = await newOrganization(clients);
    const { id, key } = await newKey(clients, org);
    for (let i = 0; i < 20; i++) await clients.auth.verify({ headers: bearer(key) });
    // Kept apart from the key document (see MongoKeyStore), one document per key.
    const lastUses = mongo.db(service.database ?? "").collection<{ _id: string; at: Date }>("api_key_last_used");
    expect(await lastUses.findOne({ _id: id })).toBeNull();
    const before = Date.now();
    await service.stop();
    const lastUsed = (await lastUses.findOne({ _id: id }))?.at;
    expect(lastUsed).toBeInstanceOf(Date);
    expect(lastUsed!.getTime()).toBeLessThanOrEqual(before);
    expect(lastUsed!.getTime()).toBeGreaterThan(before - 60_000);
  });
});
