/**
 * /healthz and /readyz on the HTTP port, and the REST API while storage is
 * down: a private MongoDB-compatible server is stopped under a running
 * service, then started again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFerretDb } from "../setup/servers.js";
import type { FerretDbServer } from "../setup/servers.js";
import type { TestKeyward } from "../support/keyward.js";
import { bearer, call, newOrganizationId, startRestKeyward, userToken } from "./support.js";

describe("/healthz and /readyz", () => {
  let service: TestKeyward;
  beforeAll(async () => {
    service = await startRestKeyward();
  });
  afterAll(async () => {
    await service?.stop();
  });

  it("report a live process and reachable dependencies", async () => {
    const baseUrl = service.keyward.server.httpUrl;
    const health = await call(baseUrl, "GET", "/healthz");
    expect(health.status).toBe(200);
    expect(health.headers.get("content-type")).toBe("application/json");
    expect(health.body).toEqual({ status: "ok" });

    const ready = await call(baseUrl, "GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe("ready");
    expect(ready.body.checks.storage).toBe(true);
    expect(Object.values(ready.body.checks).every((ok) => ok === true)).toBe(true);
  });

  it("answer GET and HEAD only", async () => {
    const baseUrl = service.keyward.server.httpUrl;
    for (const path of ["/healthz", "/readyz", "/metrics"]) {
      const res = await call(baseUrl, "POST", path);
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD");
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
  });
});

describe("with storage down", () => {
  let mongo: FerretDbServer;
  let service: TestKeyward;
  beforeAll(async () => {
    mongo = await startFerretDb();
    service = await startRestKeyward({ MONGODB_URI: mongo.uri, KEYWARD_MONGODB_DATABASE: "keyward_outage" });
  });
  afterAll(async () => {
    await service?.stop();
    await mongo?.stop({ removeDir: true });
  });

  it("stays live, is not ready, answers the API with 503 problem+json, and recovers", async () => {
    const baseUrl = service.keyward.server.httpUrl;
    const token = await userToken(newOrganizationId());
    const created = await call(baseUrl, "POST", "/v1/api-keys", { headers: bearer(token), json: { name: "before" } });
    expect(created.status).toBe(201);

    await mongo.stop();
    const [health, ready, list, create] = await Promise.all([
      call(baseUrl, "GET", "/healthz"),
      call(baseUrl, "GET", "/readyz"),
      call(baseUrl, "GET", "/v1/api-keys", { headers: bearer(token) }),
      call(baseUrl, "POST", "/v1/api-keys", { headers: bearer(created.body.key), json: { name: "during" } }),
    ]);
    expect(health.status).toBe(200);
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: "unavailable", checks: expect.objectContaining({ storage: false }) });
    for (const reply of [list, create]) {
      expect(reply.status).toBe(503);
      expect(reply.headers.get("content-type")).toBe("application/problem+json");
      expect(reply.headers.get("retry-after")).toBe("1");
      expect(reply.body).toMatchObject({ type: "about:blank", title: "Service Unavailable", status: 503, code: "unavailable" });
      expect(reply.body.detail).toMatch(/^storage is un/);
    }

    mongo = await startFerretDb({ port: mongo.port, dir: mongo.dir });
    expect((await call(baseUrl, "GET", "/readyz")).status).toBe(200);
    const after = await call(baseUrl, "GET", "/v1/api-keys", { headers: bearer(token) });
    expect(after.status).toBe(200);
    expect(after.body.map((k: { name: string }) => k.name)).toEqual(["before"]);
  });
});
