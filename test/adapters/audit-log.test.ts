import { randomUUID } from "node:crypto";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, expect, it } from "vitest";
import { MemoryAuditLog } from "../../src/adapters/memory/memory-audit-log.js";
import { MongoAuditLog } from "../../src/adapters/mongo/mongo-audit-log.js";
import { openMongo } from "../support/keyward.js";
import { auditLogContract } from "./audit-log.contract.js";

let mongo: MongoClient;
let database: string;
let mongoLog: MongoAuditLog;

beforeAll(async () => {
  mongo = await openMongo();
  database = `kw_contract_${randomUUID().slice(0, 8)}`;
  mongoLog = new MongoAuditLog(mongo.db(database));
  await mongoLog.ensureIndexes();
});
afterAll(async () => {
  await mongo?.close();
});

auditLogContract("memory", async () => new MemoryAuditLog());
auditLogContract("mongodb", async () => mongoLog);

it("keeps MongoDB's audit_events indexed by organization, time and id", async () => {
  const indexes = await mongo.db(database).collection("audit_events").indexes();
  expect(indexes.find((index) => index.name === "organization_time")?.key).toEqual({ organization_id: 1, time: -1, _id: -1 });
});
