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
export async function connectMongo(
  uri: string,
  defaultDatabase: string,
  timeoutMs = 2_000,
): Promise<MongoStores> {
  // Fail fast on a dead or hung server instead of holding the hot path
  // behind it: every operation has a deadline (timeoutMS), the verification
  // cache answers what it can, and the rest is UNAVAILABLE.
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    timeoutMS: timeoutMs,
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
