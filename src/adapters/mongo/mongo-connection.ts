import { MongoClient } from "mongodb";
import { StartupError } from "../../config.js";
import type { Db, W } from "mongodb";
import { DEFAULT_STORAGE_DEADLINE_MS, StorageDeadline } from "./deadline.js";
import type { StorageObserver } from "./deadline.js";
import { MongoCreditStore } from "./mongo-credit-store.js";
import { MongoKeyStore } from "./mongo-key-store.js";
import { MongoOrganizationStore } from "./mongo-organization-store.js";
import { MongoUsageCounter } from "./mongo-usage-counter.js";

export interface MongoStores {
  keys: MongoKeyStore;
  /** The history of keys' credits. */
  credits: MongoCreditStore;
  organizations: MongoOrganizationStore;
  /** Verdicts per key and hour. */
  usage: MongoUsageCounter;
  db: Db;
  /** The deadline every operation of these stores runs under. */
  deadline: StorageDeadline;
  /** True when the server answers a ping within the deadline. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Where reads may go in a replica set: the primary only, or a secondary while there is none. */
export type MongoReadPreference = "primary" | "primaryPreferred";

export interface MongoConnectionOptions {
  /** The database when the URI names none. */
  defaultDatabase: string;
  /** How long an operation may wait (server selection, connection, the operation itself). */
  timeoutMs?: number;
  /** Told the duration and outcome of every operation (metrics). */
  observe?: StorageObserver;
  /**
   * Acknowledgement every write waits for: `"majority"` (default) survives the
   * loss of the primary, since a majority of the replica set holds it; a
   * number waits for that many members.
   */
  writeConcern?: W;
  /**
   * `primary` (default): reads see every acknowledged write; during an
   * election a read waits for a new primary (up to `timeoutMs`).
   * `primaryPreferred`: a secondary answers meanwhile, possibly stale.
   */
  readPreference?: MongoReadPreference;
}

/**
 * Connects, creates indexes and answers the stores. The database is the one
 * named in the URI, else `defaultDatabase`. Every store reads and writes with
 * the database's read preference and write concern, so key writes (create,
 * roll, revoke, credits) wait for the configured acknowledgement.
 */
export async function connectMongo(uri: string, options: MongoConnectionOptions): Promise<MongoStores> {
  const { defaultDatabase, timeoutMs = DEFAULT_STORAGE_DEADLINE_MS, observe } = options;
  const writeConcern = { w: options.writeConcern ?? "majority" };
  const readPreference = options.readPreference ?? "primary";
  // Fail fast on a dead server instead of holding the hot path behind it:
  // selection and connection give up after timeoutMs, the verification cache
  // answers what it can, and the rest is UNAVAILABLE. (The driver ignores
  // `timeoutMS`: a deadline per operation is not its job here.)
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    writeConcern,
    readPreference,
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
  const db = client.db(new URL(uri).pathname.slice(1) || defaultDatabase, { writeConcern, readPreference });
  const deadline = new StorageDeadline(timeoutMs, observe);
  const keys = new MongoKeyStore(db, deadline);
  await keys.ensureIndexes();
  const usage = new MongoUsageCounter(db, deadline);
  await usage.ensureIndexes();
  const credits = new MongoCreditStore(db, deadline);
  await credits.ensureIndexes();
  return {
    keys,
    credits,
    organizations: new MongoOrganizationStore(db, deadline),
    usage,
    db,
    deadline,
    async ping() {
      try {
        await deadline.run("ping", (signal) => db.command({ ping: 1 }, { signal }));
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
