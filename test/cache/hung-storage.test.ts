/**
 * A MongoDB that hangs (connections open, no answers) rather than one that is
 * down: Verify must not wait on it past the configured deadline.
 */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { generateKey } from "../../src/domain/key-format.js";
import { freezableProxy } from "../support/freezable-proxy.js";
import type { FreezableProxy } from "../support/freezable-proxy.js";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";

let proxy: FreezableProxy;
let service: TestKeyward;

beforeAll(async () => {
  proxy = await freezableProxy(Number(new URL(inject("mongoUri")).port));
  service = await startTestKeyward({
    env: {
      MONGODB_URI: `mongodb://127.0.0.1:${proxy.port}/`,
      KEYWARD_MONGODB_TIMEOUT_MS: "500",
      KEYWARD_CACHE_TTL_MS: "0",
      KEYWARD_SHUTDOWN_GRACE_MS: "500",
      KEYWARD_USAGE_FLUSH_MS: "3600000",
    },
  });
});
afterAll(async () => {
  proxy?.thaw();
  await service?.stop();
  await proxy?.close();
});

describe("hung storage", () => {
  it("answers cached keys, gives up on misses within the deadline, and recovers", async () => {
    const clients = service.clients("grpc");
    const org = await newOrganization(clients);
    const { key } = await newKey(clients, org);
    expect((await clients.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.OK);

    proxy.freeze();
    expect((await clients.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.OK);
    const unseen = generateKey("live").plaintext;
    // The vitest timeout (20 s) is what a hang would hit; the deadline is 0.5 s.
    await expect(clients.auth.verify({ headers: bearer(unseen) })).rejects.toMatchObject({ code: Code.Unavailable });

    proxy.thaw();
    expect((await clients.auth.verify({ headers: bearer(unseen) })).code).toBe(VerifyCode.INVALID_CREDENTIALS);
  });
});
