/**
 * SIGTERM on a real service process: it stops accepting, finishes what is in
 * flight, flushes last_used_at and exits 0.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { openMongo } from "../support/keyward.js";
import { startReplica } from "../support/replicas.js";
import { eventually } from "../support/eventually.js";
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
      // 200 calls on one connection exceed its 100 streams: the rest are sent as streams free up, during the drain.
      KEYWARD_SHUTDOWN_DRAIN_MS: "1000",
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
    // last_used_at, flushed on the way out (kept apart from the key: see MongoKeyStore).
    const lastUse = await mongo.db(database).collection<{ _id: string; at: Date }>("api_key_last_used").findOne({ _id: id });
    expect(lastUse?.at).toBeInstanceOf(Date);
    // After the stop nothing listens any more.
    await expect(replica.clients.auth.verify({ headers: bearer(key) })).rejects.toThrow();
  });
});

describe("SIGTERM under load", () => {
  it("goes unready first, keeps serving REST keep-alive and RPC calls through the drain, and resets none", async () => {
    const replica = await startReplica({ MONGODB_URI: inject("mongoUri"), KEYWARD_SHUTDOWN_DRAIN_MS: "2000" });
    const org = await newOrganization(replica.clients);
    const { key } = await newKey(replica.clients, org);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const rest = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.get(`${replica.httpUrl}${path}`, { agent, headers: { authorization: `Bearer ${key}` } }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
      });
    expect(await rest("/readyz")).toBe(200);

    let stopped = false;
    const failures: string[] = [];
    const answered = { rest: 0, rpc: 0, afterSignal: 0 };
    let signalled = false;
    // Four REST workers on keep-alive sockets, four RPC workers on one h2
    // connection, sending until a load balancer would have stopped: a moment
    // after /readyz turned 503, well within the drain.
    const workers = [
      ...Array.from({ length: 4 }, async () => {
        while (!stopped) {
          try {
            expect(await rest("/v1/api-keys")).toBe(200);
            answered.rest++;
            if (signalled) answered.afterSignal++;
          } catch (error) {
            failures.push(`rest: ${(error as Error).message}`);
            return;
          }
        }
      }),
      ...Array.from({ length: 4 }, async () => {
        while (!stopped) {
          try {
            expect((await replica.clients.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.OK);
            answered.rpc++;
            if (signalled) answered.afterSignal++;
          } catch (error) {
            failures.push(`rpc: ${(error as Error).message}`);
            return;
          }
        }
      }),
    ];
    const exited = new Promise<number | null>((resolve) => replica.child.once("exit", resolve));
    await eventually(async () => answered.rest > 20 && answered.rpc > 20);
    replica.child.kill("SIGTERM");
    signalled = true;
    // Unready at once, while still answering.
    await eventually(async () => {
      try {
        return (await rest("/readyz")) === 503;
      } catch {
        return false;
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 500)); // the balancer's reaction time
    stopped = true;
    await Promise.all(workers);
    expect(await exited).toBe(0);
    agent.destroy();
    expect(failures, JSON.stringify({ failures, answered })).toEqual([]);
    expect(answered.afterSignal).toBeGreaterThan(50); // the drain served traffic
  });
});
