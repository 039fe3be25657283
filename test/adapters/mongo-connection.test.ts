/**
 * The write concern and read preference reach the driver. FerretDB is one
 * server, not a replica set: it accepts `w: "majority"` (a majority of one)
 * but cannot show an election; the README says what one does to Verify.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, inject, it } from "vitest";
import { connectMongo } from "../../src/adapters/mongo/mongo-connection.js";
import type { MongoStores } from "../../src/adapters/mongo/mongo-connection.js";
import { loadConfig } from "../../src/config.js";

const opened: MongoStores[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((stores) => stores.close()));
});
const open = async (options: Partial<Parameters<typeof connectMongo>[1]> = {}) => {
  const stores = await connectMongo(inject("mongoUri"), { defaultDatabase: `kw_${randomUUID().slice(0, 8)}`, ...options });
  opened.push(stores);
  return stores;
};

describe("MongoDB consistency options", () => {
  it("write with w: majority and read from the primary by default", async () => {
    const { db } = await open();
    const keys = db.collection("api_keys");
    expect(keys.writeConcern?.w).toBe("majority");
    expect(keys.readPreference?.mode).toBe("primary");
    for (const name of ["key_credits", "organizations", "audit_events"]) {
      expect(db.collection(name).writeConcern?.w).toBe("majority");
    }
    // The server takes the write concern it is sent.
    await expect(keys.insertOne({ probe: true })).resolves.toMatchObject({ acknowledged: true });
  });

  it("pass the configured write concern and read preference to the driver", async () => {
    const config = loadConfig({ KEYWARD_MONGODB_WRITE_CONCERN: "2", KEYWARD_MONGODB_READ_PREFERENCE: "primaryPreferred" });
    expect(config).toMatchObject({ mongodbWriteConcern: 2, mongodbReadPreference: "primaryPreferred" });
    const { db } = await open({ writeConcern: config.mongodbWriteConcern, readPreference: config.mongodbReadPreference });
    expect(db.collection("api_keys").writeConcern?.w).toBe(2);
    expect(db.collection("api_keys").readPreference?.mode).toBe("primaryPreferred");
  });

  it.each([["0"], ["some"], ["100"]])("refuse KEYWARD_MONGODB_WRITE_CONCERN=%s", (value) => {
    expect(() => loadConfig({ KEYWARD_MONGODB_WRITE_CONCERN: value })).toThrow(/^KEYWARD_MONGODB_WRITE_CONCERN: /);
  });

  it("refuse a read preference that could read from a secondary while a primary answers", () => {
    expect(() => loadConfig({ KEYWARD_MONGODB_READ_PREFERENCE: "secondary" })).toThrow(/^KEYWARD_MONGODB_READ_PREFERENCE: /);
    expect(loadConfig({})).toMatchObject({ mongodbWriteConcern: "majority", mongodbReadPreference: "primary" });
  });
});
