/**
 * MongoDB stopped under a running service: cached keys keep verifying (up to
 * the configured staleness), misses answer UNAVAILABLE — never "allowed" —
 * and the service recovers when MongoDB is back, without a restart.
 */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { generateKey } from "../../src/domain/key-format.js";
import { startFerretDb } from "../setup/servers.js";
import type { FerretDbServer } from "../setup/servers.js";
import { eventually } from "../support/eventually.js";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";
import { metricValue } from "../support/metrics.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";

let mongo: FerretDbServer;
let service: TestKeyward;

beforeAll(async () => {
  mongo = await startFerretDb();
  service = await startTestKeyward({
    env: {
      MONGODB_URI: mongo.uri,
      KEYWARD_MONGODB_TIMEOUT_MS: "500",
      // Every lookup past 0 ms refreshes: only storage failure keeps an entry answering.
      KEYWARD_CACHE_TTL_MS: "0",
      KEYWARD_CACHE_MAX_STALE_MS: "600000",
      KEYWARD_USAGE_FLUSH_MS: "3600000",
    },
  });
});
afterAll(async () => {
  await service?.stop();
  await mongo?.stop({ removeDir: true });
});

describe("storage outage", () => {
  it("keeps cached keys verifying, answers misses UNAVAILABLE, and recovers", async () => {
    const clients = service.clients("grpc");
    const org = await newOrganization(clients);
    const { key } = await newKey(clients, org);
    expect((await clients.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.OK);

    await mongo.stop();
    const during = await clients.auth.verify({ headers: bearer(key) });
    expect(during).toMatchObject({ allowed: true, organizationId: org });
    expect(await metricValue(service.keyward.server.httpUrl, "keyward_cache_stale_served_total")).toBeGreaterThan(0);
    const ready = await fetch(`${service.keyward.server.httpUrl}/readyz`);
    expect(ready.status).toBe(503);

    // A key never seen before cannot be decided.
    const unseen = generateKey("live").plaintext;
    await expect(clients.auth.verify({ headers: bearer(unseen) })).rejects.toMatchObject({ code: Code.Unavailable });
    await expect(clients.apiKeys.createApiKey({ organizationId: org, name: "x" })).rejects.toMatchObject({
      code: Code.Unavailable,
    });

    mongo = await startFerretDb({ port: mongo.port, dir: mongo.dir });
    await eventually(async () => (await fetch(`${service.keyward.server.httpUrl}/readyz`)).status === 200, 100, 100);
    const fresh = await newKey(clients, org);
    expect((await clients.auth.verify({ headers: bearer(fresh.key) })).code).toBe(VerifyCode.OK);
    expect((await clients.auth.verify({ headers: bearer(unseen) })).code).toBe(VerifyCode.INVALID_CREDENTIALS);
  });
});
