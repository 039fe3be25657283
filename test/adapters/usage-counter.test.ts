import { randomUUID } from "node:crypto";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll } from "vitest";
import { MemoryUsageCounter } from "../../src/adapters/memory/memory-usage-counter.js";
import { MongoUsageCounter } from "../../src/adapters/mongo/mongo-usage-counter.js";
import { openMongo } from "../support/keyward.js";
import { usageCounterContract } from "./usage-counter.contract.js";

let mongo: MongoClient;
let mongoCounter: MongoUsageCounter;
let mongoOther: MongoUsageCounter;

beforeAll(async () => {
  mongo = await openMongo();
  const db = mongo.db(`kw_usage_${randomUUID().slice(0, 8)}`);
  mongoCounter = new MongoUsageCounter(db);
  await mongoCounter.ensureIndexes();
  mongoOther = new MongoUsageCounter(db);
});
afterAll(async () => {
  await mongo?.close();
});

usageCounterContract("memory", async () => {
  const counter = new MemoryUsageCounter();
  return { counter, other: counter };
});
usageCounterContract("mongodb", async () => ({ counter: mongoCounter, other: mongoOther }));
