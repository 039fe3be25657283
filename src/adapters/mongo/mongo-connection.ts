import { MongoClient } from "mongodb";
import { StartupError } from "../../config.js";
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
  // Fail fast on a dead server instead of holding the hot path behind it:
  // selection and connection give up after timeoutMs, the verification cache
  // answers what it can, and the rest is UNAVAILABLE. (The driver ignores
  // `timeoutMS`: a deadline per operation is not its job here.)
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
  });
  try {
    await client.connect();
  } catch (error) {
    await client.close().catch(() => {});
    throw new StartupError(
      "MONGODB_URI",
      `MongoDB at ${describeHosts(uri)} did not answer within ${timeoutMs} ms (${(error as Error).name})`,
      { cause: error },
    );
  }
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

/** The hosts of a connection string, never its credentials. */
function describeHosts(uri: string): string {
  const match = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]*)/.exec(uri);
  return match?.[1] || "(no host)";
}
