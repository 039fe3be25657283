import { randomUUID } from "node:crypto";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll } from "vitest";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { MongoKeyStore } from "../../src/adapters/mongo/mongo-key-store.js";
import { openMongo } from "../support/keyward.js";
import { keyStoreContract } from "./key-store.contract.js";

let mongo: MongoClient;
let mongoStore: MongoKeyStore;

beforeAll(async () => {
  mongo = await openMongo();
  mongoStore = new MongoKeyStore(mongo.db(`kw_contract_${randomUUID().slice(0, 8)}`));
  await mongoStore.ensureIndexes();
});
afterAll(async () => {
  await mongo?.close();
});

keyStoreContract("memory", async () => new MemoryKeyStore());
keyStoreContract("mongodb", async () => mongoStore);
