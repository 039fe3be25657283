import { MongoClient } from "mongodb";
import type { Db } from "mongodb";
import { MongoKeyStore } from "./mongo-key-store.js";
import { MongoOrganizationStore } from "./mongo-organization-store.js";

export interface MongoStores {
  keys: MongoKeyStore;
  organizations: MongoOrganizationStore;
  db: Db;
  /** True when the server answers a ping. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Connects, creates indexes and answers the stores. The database is the one
 * named in the URI, else `defaultDatabase`.
 */
export async function connectMongo(uri: string, defaultDatabase: string): Promise<MongoStores> {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: 5_000,
    // Fail fast on a dead server instead of queueing the hot path behind it.
    connectTimeoutMS: 5_000,
  });
  await client.connect();
  const db = client.db(new URL(uri).pathname.slice(1) || defaultDatabase);
  const keys = new MongoKeyStore(db);
  await keys.ensureIndexes();
  return {
    keys,
    organizations: new MongoOrganizationStore(db),
    db,
    async ping() {
      try {
        await db.command({ ping: 1 });
        return true;
      } catch {
        return false;
      }
    },
    close: () => client.close(),
  };
}
