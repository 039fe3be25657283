/**
 * keyward cannot decide (MongoDB stopped, the key never cached): forward-auth
 * answers 503 problem+json and ext_authz the gRPC error UNAVAILABLE — never
 * "allowed".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/domain/key-format.js";
import { SERVICE_TOKEN } from "../clients/programs.js";
import { startFerretDb } from "../setup/servers.js";
import type { FerretDbServer } from "../setup/servers.js";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";
import { check } from "./envoy-client.js";
import { send } from "./support.js";

let mongo: FerretDbServer;
let service: TestKeyward;

beforeAll(async () => {
  mongo = await startFerretDb();
  service = await startTestKeyward({
    env: { MONGODB_URI: mongo.uri, KEYWARD_MONGODB_TIMEOUT_MS: "500", KEYWARD_INTERNAL_TOKENS: SERVICE_TOKEN },
  });
  await mongo.stop();
});
afterAll(async () => {
  await service?.stop();
  await mongo?.stop({ removeDir: true });
});

describe("keyward cannot decide", () => {
  const unseen = `Bearer ${generateKey("live").plaintext}`;

  it.each([
    ["HTTP/1.1 forward-auth", {}],
    ["forward-auth in nginx compat mode (nginx then fails closed with 500)", { "x-keyward-compat": "nginx" }],
  ])("%s answers 503 problem+json", async (_name, extra) => {
    const answer = await send(service.keyward.server.rpcUrl, "GET", "/forward-auth", {
      "x-keyward-service-token": SERVICE_TOKEN,
      "x-forwarded-method": "GET",
      "x-forwarded-uri": "/v1/messages",
      authorization: unseen,
      ...extra,
    });
    expect(answer.status).toBe(503);
    expect(answer.headers["content-type"]).toBe("application/problem+json");
    expect(answer.headers["retry-after"]).toBe("1");
    expect(answer.headers["x-keyward-organization-id"]).toBeUndefined();
    expect(JSON.parse(answer.body)).toMatchObject({ status: 503, code: "unavailable" });
  });

  it("ext_authz Check answers the gRPC error UNAVAILABLE", async () => {
    const results = await check(service.keyward.server.rpcPort, SERVICE_TOKEN, [
      { name: "unseen", headers: { authorization: unseen }, method: "GET", path: "/v1/messages" },
    ]);
    expect(results.get("unseen")).toMatchObject({ error: "Unavailable", allowed: false });
  });
});
