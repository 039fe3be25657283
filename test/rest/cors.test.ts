/**
 * CORS on /v1/ as in the Sent seed (any origin by default), and with
 * KEYWARD_CORS_ORIGINS naming the dashboard's origins.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import type { TestKeyward } from "../support/keyward.js";
import { bearer, call, newOrganizationId, startRestKeyward, userToken } from "./support.js";

const DASHBOARD = "https://dashboard.example.com";
const LOCAL = "http://localhost:3000";

let open: TestKeyward;
let listed: TestKeyward;

beforeAll(async () => {
  [open, listed] = await Promise.all([
    startRestKeyward(),
    startRestKeyward({ KEYWARD_CORS_ORIGINS: `${DASHBOARD}, ${LOCAL}` }),
  ]);
});
afterAll(async () => {
  await Promise.all([open?.stop(), listed?.stop()]);
});

const preflight = (baseUrl: string, path: string, origin: string, method: string, headers = "authorization, content-type") =>
  call(baseUrl, "OPTIONS", path, {
    headers: { origin, "access-control-request-method": method, "access-control-request-headers": headers },
  });

describe("CORS with the default (any origin)", () => {
  it("answers preflights with 204, the path's methods, the requested headers and a max age", async () => {
    const baseUrl = open.keyward.server.httpUrl;
    const cases: [string, string, string][] = [
      ["/v1/api-keys", "POST", "GET, POST, OPTIONS"],
      ["/v1/api-keys/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "PATCH", "GET, PATCH, DELETE, OPTIONS"],
      ["/v1/api-keys/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/roll", "POST", "POST, OPTIONS"],
      ["/v1/openapi.json", "GET", "GET, OPTIONS"],
    ];
    for (const [path, method, methods] of cases) {
      const reply = await preflight(baseUrl, path, "https://anywhere.example", method, "Authorization, Content-Type, X-Api-Key, X-Sender-Id");
      expect(reply.status, path).toBe(204);
      expect(reply.text).toBe("");
      expect(reply.headers.get("access-control-allow-origin")).toBe("*");
      expect(reply.headers.get("access-control-allow-methods")).toBe(methods);
      expect(reply.headers.get("access-control-allow-headers")).toBe("Authorization, Content-Type, X-Api-Key, X-Sender-Id");
      expect(reply.headers.get("access-control-max-age")).toBe("600");
      expect(reply.headers.get("allow")).toBe(methods);
    }
    // Requested headers that are not a header list are not echoed.
    const odd = await preflight(baseUrl, "/v1/api-keys", "https://anywhere.example", "POST", "x-a b, (c)");
    expect(odd.status).toBe(204);
    expect(odd.headers.get("access-control-allow-headers")).toBeNull();
    // An unknown path is still a 404, readable by the page.
    const unknown = await preflight(baseUrl, "/v1/nothing", "https://anywhere.example", "GET");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("allows any origin on every /v1/ answer, errors included, and exposes paging, rate-limit and request-id headers", async () => {
    const baseUrl = open.keyward.server.httpUrl;
    const origin = { origin: "https://anywhere.example" };
    const token = await userToken(newOrganizationId());
    const created = await call(baseUrl, "POST", "/v1/api-keys", { headers: { ...origin, ...bearer(token) }, json: { name: "cors" } });
    expect(created.status).toBe(201);
    expect(created.headers.get("access-control-allow-origin")).toBe("*");
    const exposed = (created.headers.get("access-control-expose-headers") ?? "").split(/,\s*/);
    for (const header of ["Link", "X-Next-Cursor", "Location", "RateLimit-Remaining", "Retry-After", "WWW-Authenticate", "X-Request-Id"]) {
      expect(exposed).toContain(header);
    }
    for (const [method, path] of [["GET", "/v1/api-keys"], ["PUT", "/v1/api-keys"], ["GET", "/v1/missing"], ["GET", "/v1/openapi.json"]] as const) {
      const reply = await call(baseUrl, method, path, { headers: origin });
      expect(reply.headers.get("access-control-allow-origin"), `${method} ${path}`).toBe("*");
    }
    // Outside /v1/, no CORS.
    expect((await call(baseUrl, "GET", "/healthz", { headers: origin })).headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("CORS with KEYWARD_CORS_ORIGINS", () => {
  it("echoes a listed origin, varies by Origin, and gives nothing to other origins", async () => {
    const baseUrl = listed.keyward.server.httpUrl;
    for (const origin of [DASHBOARD, LOCAL]) {
      const pre = await preflight(baseUrl, "/v1/api-keys", origin, "POST");
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe(origin);
      expect(pre.headers.get("access-control-allow-headers")).toBe("authorization, content-type");
      expect(pre.headers.get("vary")).toContain("Origin");
      const actual = await call(baseUrl, "GET", "/v1/api-keys", { headers: { origin } });
      expect(actual.status).toBe(401);
      expect(actual.headers.get("access-control-allow-origin")).toBe(origin);
      expect(actual.headers.get("vary")).toBe("Origin");
    }

    const stranger = "https://evil.example";
    const pre = await preflight(baseUrl, "/v1/api-keys", stranger, "POST");
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    expect(pre.headers.get("access-control-allow-methods")).toBeNull();
    const actual = await call(baseUrl, "GET", "/v1/api-keys", { headers: { origin: stranger } });
    expect(actual.headers.get("access-control-allow-origin")).toBeNull();
    expect(actual.headers.get("vary")).toBe("Origin");
    // Origins match exactly: scheme, host and port.
    for (const near of ["http://dashboard.example.com", "https://dashboard.example.com:8443", "http://localhost:3001", "null"]) {
      const reply = await call(baseUrl, "GET", "/v1/openapi.json", { headers: { origin: near } });
      expect(reply.headers.get("access-control-allow-origin"), near).toBeNull();
    }
  });

  it("refuses a bad value at start-up, naming the variable", () => {
    for (const value of ["https://a.example/path", "*, https://a.example", "dashboard.example.com", "null", " , "]) {
      let error: unknown;
      try {
        loadConfig({ KEYWARD_CORS_ORIGINS: value });
      } catch (caught) {
        error = caught;
      }
      expect(error, value).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe("KEYWARD_CORS_ORIGINS");
    }
    expect(loadConfig({}).corsOrigins).toEqual(["*"]);
    expect(loadConfig({ KEYWARD_CORS_ORIGINS: "https://a.example/, http://b.example:8080" }).corsOrigins).toEqual([
      "https://a.example",
      "http://b.example:8080",
    ]);
  });
});
