import { randomUUID } from "node:crypto";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll } from "vitest";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { MongoCreditStore } from "../../src/adapters/mongo/mongo-credit-store.js";
import { MongoKeyStore } from "../../src/adapters/mongo/mongo-key-store.js";
import { openMongo } from "../support/keyward.js";
import { creditStoreContract } from "./credit-store.contract.js";

let mongo: MongoClient;
let keys: MongoKeyStore;
let credits: MongoCreditStore;

beforeAll(async () => {
  mongo = await openMongo();
  const db = mongo.db(`kw_credits_${randomUUID().slice(0, 8)}`);
  keys = new MongoKeyStore(db);
  await keys.ensureIndexes();
  credits = new MongoCreditStore(db);
  await credits.ensureIndexes();
});
afterAll(async () => {
  await mongo?.close();
});

creditStoreContract("memory", async () => {
  const store = new MemoryKeyStore();
  return { keys: store, credits: store };
});
creditStoreContract("mongodb", async () => ({ keys, credits }));
