/**
 * SIGTERM on a real service process: it stops accepting, finishes what is in
 * flight, flushes last_used_at and exits 0.
 */
import { randomUUID } from "node:crypto";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { openMongo } from "../support/keyward.js";
import { startReplica } from "../support/replicas.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";

let mongo: MongoClient;
beforeAll(async () => {
  mongo = await openMongo();
});
afterAll(() => mongo?.close());

describe("SIGTERM", () => {
  it("drains in-flight calls, flushes last_used_at and exits 0", async () => {
    const database = `kw_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const replica = await startReplica({
      MONGODB_URI: inject("mongoUri"),
      KEYWARD_MONGODB_DATABASE: database,
      KEYWARD_USAGE_FLUSH_MS: "3600000",
    });
    const org = await newOrganization(replica.clients);
    const { id, key } = await newKey(replica.clients, org);

    // One call first: the connection is up, so the next ones reach the server at once.
    expect((await replica.clients.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.OK);
    const inFlight = Array.from({ length: 200 }, () => replica.clients.auth.verify({ headers: bearer(key) }));
    const exited = new Promise<number | null>((resolve) => replica.child.once("exit", resolve));
    // Signal once the server is answering this batch: the rest are in its hands.
    await Promise.race(inFlight);
    replica.child.kill("SIGTERM");
    const verdicts = await Promise.allSettled(inFlight);
    expect(await exited).toBe(0);

    // Every call the server had accepted completed with its verdict.
    expect(verdicts.every((v) => v.status === "fulfilled" && v.value.code === VerifyCode.OK)).toBe(true);
    const doc = await mongo
      .db(database)
      .collection<{ _id: string; last_used_at: Date | null }>("api_keys")
      .findOne({ _id: id });
    expect(doc?.last_used_at).toBeInstanceOf(Date);
    // After the stop nothing listens any more.
    await expect(replica.clients.auth.verify({ headers: bearer(key) })).rejects.toThrow();
  });
});
