/**
 * KEYWARD_WORKERS: one service, several processes on the same ports, sharing
 * MongoDB and Redis — one pool, one cache invalidation, one drain.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { eventually } from "../support/eventually.js";
import { clientsFor } from "../support/keyward.js";
import { startReplica } from "../support/replicas.js";
import type { Replica } from "../support/replicas.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";
import { ConfigError, loadConfig } from "../../src/config.js";

let service: Replica;
beforeAll(async () => {
  service = await startReplica({
    KEYWARD_WORKERS: "2",
    MONGODB_URI: inject("mongoUri"),
    KEYWARD_MONGODB_DATABASE: `kw_${randomUUID().replaceAll("-", "").slice(0, 16)}`,
    REDIS_URL: inject("redisUrl"),
    KEYWARD_CACHE_TTL_MS: "3600000",
  });
});
afterAll(() => service?.stop());

describe("KEYWARD_WORKERS=2", () => {
  it("serves from two worker processes on one port", () => {
    expect(new Set(service.servingPids).size).toBe(2);
    expect(service.servingPids).not.toContain(service.child.pid);
  });

  it("revokes for every worker: each new connection denies", async () => {
    const org = await newOrganization(service.clients);
    const { id, key } = await newKey(service.clients, org);
    // Connections are spread over the workers; warm each one's cache.
    const connections = Array.from({ length: 6 }, () => clientsFor(service.rpcUrl, "grpc"));
    for (const c of connections) expect((await c.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.OK);
    await service.clients.apiKeys.revokeApiKey({ organizationId: org, id });
    for (const c of connections) {
      await eventually(async () => (await c.auth.verify({ headers: bearer(key) })).code === VerifyCode.KEY_REVOKED, 50, 20);
    }
  });

  it("stops every worker on SIGTERM and exits 0", async () => {
    const exited = new Promise<number | null>((resolve) => service.child.once("exit", resolve));
    service.child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("refuses more than one worker without MongoDB and Redis", () => {
    expect(() => loadConfig({ KEYWARD_WORKERS: "2" })).toThrow(ConfigError);
    expect(() => loadConfig({ KEYWARD_WORKERS: "2", MONGODB_URI: "mongodb://127.0.0.1/" })).toThrow(/^KEYWARD_WORKERS: /);
  });
});
