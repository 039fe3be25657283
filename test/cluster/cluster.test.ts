/**
 * keyward on Redis Cluster: two real service processes share a six-node
 * cluster (3 masters, 3 replicas) and FerretDB. Pools are exact across them,
 * revocations cross over pub/sub, and killing the master that owns a pool's
 * slot costs a short in-process fallback, never an RPC error, after which the
 * promoted replica holds the shared pool again, without a restart; a third
 * process, fail-closed, answers UNAVAILABLE meanwhile and nothing else.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { poolKey } from "../../src/adapters/redis/redis-rate-limiter.js";
import { startRedisCluster } from "../setup/servers.js";
import type { RedisClusterServer } from "../setup/servers.js";
import { eventually } from "../support/eventually.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";
import { metricValue } from "../support/metrics.js";
import { startReplica, startReplicas } from "../support/replicas.js";
import type { Replica } from "../support/replicas.js";
import { organizationWithPlan } from "../limiter/support.js";

let redis: RedisClusterServer;
let replicas: Replica[] = [];
let env: Record<string, string>;
let client: Cluster;

beforeAll(async () => {
  redis = await startRedisCluster();
  env = {
    MONGODB_URI: inject("mongoUri"),
    KEYWARD_MONGODB_DATABASE: `kw_${randomUUID().replaceAll("-", "").slice(0, 16)}`,
    KEYWARD_REDIS_CLUSTER_NODES: redis.seeds,
    // Only pub/sub can tell one replica about a change made on the other.
    KEYWARD_CACHE_TTL_MS: "3600000",
    KEYWARD_CACHE_NEGATIVE_TTL_MS: "3600000",
  };
  replicas = await startReplicas(2, env);
  client = new Cluster(redis.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })));
  client.on("error", () => {});
});
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  client?.disconnect();
  await redis?.stop();
});

const fallbacks = async (replica: Replica) => metricValue(replica.httpUrl, "keyward_rate_limiter_fallback_total");

/** The address (`127.0.0.1:port`) of the master serving `slot`, as a live node sees it. */
async function masterOf(slot: number): Promise<string> {
  return (await liveMasters()).find((m) => m.slots(slot))?.address ?? "";
}

/** The live masters: address, whether a live replica follows it, which slots it serves. */
async function liveMasters(): Promise<Array<{ address: string; replicated: boolean; slots(slot: number): boolean }>> {
  const lines = ((await client.cluster("NODES")) as string).trim().split("\n").map((line) => line.split(" "));
  return lines
    .filter(([, , flags = ""]) => flags.split(",").includes("master") && !flags.includes("fail"))
    .map(([id, address = "", , , , , , , ...ranges]) => ({
      address: address.split("@")[0] ?? "",
      replicated: lines.some(([, , flags = "", master]) => master === id && !flags.includes("fail")),
      slots: (slot: number) =>
        ranges.some((range) => {
          const [from = -1, to = from] = range.split("-").map(Number);
          return slot >= from && slot <= to;
        }),
    }));
}

describe("two service processes on Redis Cluster", () => {
  it("allow exactly the organization's limit: 400 concurrent Verify, limit 150", async () => {
    const [a, b] = replicas as [Replica, Replica];
    const org = await organizationWithPlan(a.clients, 150, 3_600_000);
    const keys = [await org.newKey(), await org.newKey()];
    const verdicts = await Promise.all(
      Array.from({ length: 400 }, (_, i) => (i % 2 ? b : a).clients.auth.verify({ headers: bearer(keys[i % 2]!) })),
    );
    const allowed = verdicts.filter((v) => v.allowed);
    expect(allowed).toHaveLength(150);
    expect(verdicts.filter((v) => v.code === VerifyCode.RATE_LIMITED)).toHaveLength(250);
    expect(new Set(allowed.map((v) => v.rateLimit?.remaining)).size).toBe(150);
    expect(await client.exists(poolKey(`org:${org.id}:live`))).toBe(1);
    for (const replica of replicas) expect(await fallbacks(replica)).toBe(0);
  });

  it("carry a revoke on one to the other's verdicts within 1 s", async () => {
    const [a, b] = replicas as [Replica, Replica];
    const org = await newOrganization(a.clients);
    const { id, key } = await newKey(a.clients, org);
    const onB = () => b.clients.auth.verify({ headers: bearer(key) });
    expect((await onB()).code).toBe(VerifyCode.OK); // cached on B for an hour
    await a.clients.apiKeys.revokeApiKey({ organizationId: org, id });
    const started = performance.now();
    await eventually(async () => (await onB()).code === VerifyCode.KEY_REVOKED, 50, 20);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("keep answering while the pool's master is killed, then share the pool on the promoted replica", async () => {
    const [a] = replicas as [Replica, Replica];
    const limit = 1_000_000;
    // A day's window drains the pool slowly (12 units/s) against the load's hundreds.
    const org = await organizationWithPlan(a.clients, limit, 86_400_000);
    const key = await org.newKey();
    // Half the pool spent at once: a shared decision answers remaining near
    // limit / 2, one from a replica's fresh in-process pool near the limit. So
    // each verdict tells who decided it.
    const spent = await a.clients.auth.verify({ headers: bearer(key), cost: limit / 2 });
    expect(spent.rateLimit?.remaining).toBe(limit / 2);
    const pool = poolKey(`org:${org.id}:live`);
    const slot = (await client.cluster("KEYSLOT", pool)) as number;
    const victim = await masterOf(slot);
    const node = redis.nodes.find((n) => n.address === victim);
    if (!node) throw new Error(`master ${victim} is not one of the test cluster's nodes`);
    const before = (await Promise.all(replicas.map(fallbacks))).reduce((x, y) => x + y, 0);

    interface Seen {
      at: number;
      replica: number;
      shared: boolean;
      /** How long the call took. */
      ms: number;
    }
    const seen: Seen[] = [];
    const errors: unknown[] = [];
    let running = true;
    let killedAt = 0;
    const worker = async (replica: number) => {
      while (running) {
        const started = performance.now();
        try {
          const verdict = await replicas[replica]!.clients.auth.verify({ headers: bearer(key) });
          if (!verdict.allowed) errors.push(new Error(`denied: ${verdict.code}`));
          seen.push({
            at: performance.now(),
            replica,
            shared: (verdict.rateLimit?.remaining ?? limit) < limit * 0.75,
            ms: performance.now() - started,
          });
        } catch (error) {
          errors.push(error);
          await sleep(10);
        }
      }
    };
    const load = Array.from({ length: 16 }, (_, i) => worker(i % 2));
    const sharedSince = (t: number, replica: number) => seen.some((s) => s.at > t && s.replica === replica && s.shared);
    try {
      await sleep(500);
      killedAt = performance.now();
      process.kill(node.pid, "SIGKILL");
      // Until both replicas have decided on the shared pool again for a while
      // after the last fallback (bounded: 30 s).
      await eventually(async () => {
        const last = seen.filter((s) => !s.shared).at(-1)?.at;
        return last !== undefined && performance.now() - last > 1000 && sharedSince(last, 0) && sharedSince(last, 1);
      }, 300, 100);
    } finally {
      running = false;
      await Promise.all(load);
    }

    const fallback = seen.filter((s) => !s.shared);
    const lastFallback = fallback.at(-1)!.at;
    const figures = {
      fallbackMs: Math.round(lastFallback - killedAt),
      fallbackDecisions: fallback.length,
      fallbackSlowestCallMs: Math.round(Math.max(...fallback.map((s) => s.ms))),
      decisionsDuringTest: seen.length,
      newMaster: await masterOf(slot),
    };
    console.log(`failover of the pool's master: ${JSON.stringify(figures)}`);

    expect(errors).toEqual([]);
    for (const replica of replicas) expect(replica.child.exitCode).toBeNull();
    expect(fallback.length).toBeGreaterThan(0);
    // Every in-process decision is counted in the metric, and only those.
    const after = (await Promise.all(replicas.map(fallbacks))).reduce((x, y) => x + y, 0);
    expect(after - before).toBe(fallback.length);
    // The slot moved to the promoted replica, which now holds the pool.
    expect(figures.newMaster).not.toBe(victim);
    expect(Number(await client.hget(pool, "level"))).toBeGreaterThan(limit * 0.25);
    expect(sharedSince(lastFallback, 0) && sharedSince(lastFallback, 1)).toBe(true);
  }, 60_000);

  it("fail closed on request: UNAVAILABLE while the pool's master is being replaced, never an unchecked allow", async () => {
    const [a] = replicas as [Replica, Replica];
    const closed = await startReplica({ ...env, KEYWARD_RATE_LIMIT_FAIL_CLOSED: "true" });
    try {
      // A pool on a master that still has a replica to promote.
      let org = await organizationWithPlan(a.clients, 1_000_000, 86_400_000);
      let victim = "";
      for (let attempt = 0; attempt < 20 && !victim; attempt++) {
        const slot = (await client.cluster("KEYSLOT", poolKey(`org:${org.id}:live`))) as number;
        const master = (await liveMasters()).find((m) => m.slots(slot));
        if (master?.replicated) victim = master.address;
        else org = await organizationWithPlan(a.clients, 1_000_000, 86_400_000);
      }
      const node = redis.nodes.find((n) => n.address === victim);
      if (!node) throw new Error("no replicated master found for a pool");
      const key = await org.newKey();
      expect((await closed.clients.auth.verify({ headers: bearer(key) })).allowed).toBe(true);

      const outcomes: Array<{ at: number; outcome: string }> = [];
      let running = true;
      const worker = async () => {
        while (running) {
          let outcome: string;
          try {
            const verdict = await closed.clients.auth.verify({ headers: bearer(key) });
            outcome = verdict.allowed ? "allowed" : `denied ${verdict.code}`;
          } catch (error) {
            outcome = ConnectError.from(error).code === Code.Unavailable ? "unavailable" : `error ${String(error)}`;
            await sleep(10);
          }
          outcomes.push({ at: performance.now(), outcome });
        }
      };
      const load = Array.from({ length: 8 }, worker);
      let killedAt = 0;
      try {
        await sleep(300);
        killedAt = performance.now();
        process.kill(node.pid, "SIGKILL");
        await eventually(async () => {
          const last = outcomes.filter((o) => o.outcome === "unavailable").at(-1)?.at;
          return last !== undefined && outcomes.some((o) => o.at > last + 1000 && o.outcome === "allowed");
        }, 300, 100);
      } finally {
        running = false;
        await Promise.all(load);
      }
      const unavailable = outcomes.filter((o) => o.outcome === "unavailable");
      console.log(
        `fail-closed failover: ${JSON.stringify({
          unavailableMs: Math.round(unavailable.at(-1)!.at - killedAt),
          unavailableCalls: unavailable.length,
          calls: outcomes.length,
        })}`,
      );
      expect(outcomes.filter((o) => o.outcome !== "allowed" && o.outcome !== "unavailable")).toEqual([]);
      expect(await metricValue(closed.httpUrl, "keyward_rate_limiter_unavailable_total")).toBe(unavailable.length);
      expect(await metricValue(closed.httpUrl, "keyward_rate_limiter_fallback_total")).toBe(0);
      expect(closed.child.exitCode).toBeNull();
    } finally {
      await closed.stop();
    }
  }, 60_000);
});
