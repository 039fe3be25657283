/**
 * Hostile and careless input to /v1/api-keys over real HTTP: every case is a
 * clear application/problem+json error (type, title, status, detail, code),
 * never a 5xx, a hang or a crash. Raw node:http and TCP requests send what
 * fetch would not (invalid UTF-8, lying and huge bodies).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/rest/request-body.js";
import type { TestKeyward } from "../support/keyward.js";
import type { JsonReply } from "./support.js";
import { bearer, call, client, newOrganizationId, rawRequest, startRestKeyward, tcpExchange, userToken } from "./support.js";

let service: TestKeyward;
let baseUrl: string;
let token: string;
let api: ReturnType<typeof client>;
let keyId: string;

beforeAll(async () => {
  // Well over a hundred requests a second from one organization: lift the default plan (100/1s).
  service = await startRestKeyward({ KEYWARD_RATE_LIMIT_DEFAULT: "100000/1s" });
  baseUrl = service.keyward.server.httpUrl;
  token = await userToken(newOrganizationId());
  api = client(baseUrl, bearer(token));
  const created = await api("POST", "/v1/api-keys", { json: { name: "target" } });
  expect(created.status).toBe(201);
  keyId = created.body.id;
});
afterAll(async () => {
  await service?.stop();
});

function expectProblem(reply: Pick<JsonReply, "status" | "body"> & { contentType: string | null | undefined }, status: number, code: string) {
  expect(reply.status).toBe(status);
  expect(reply.contentType).toBe("application/problem+json");
  expect(Object.keys(reply.body).sort()).toEqual(["code", "detail", "status", "title", "type"]);
  expect(reply.body).toMatchObject({ type: "about:blank", status, code });
  expect(reply.body.detail.length).toBeGreaterThan(0);
}

const problemOf = (reply: JsonReply) => ({ ...reply, contentType: reply.headers.get("content-type") });

async function expect400(method: string, path: string, json: unknown, detail?: string | RegExp) {
  const reply = await api(method, path, { json });
  expectProblem(problemOf(reply), 400, "invalid_argument");
  if (detail !== undefined) expect(reply.body.detail).toMatch(detail);
}

describe("validation of key bodies", () => {
  it("requires a name: not missing, not empty, not only whitespace, at most 200 characters", async () => {
    await expect400("POST", "/v1/api-keys", {}, "name: is required");
    await expect400("POST", "/v1/api-keys", { name: "" }, "name: cannot be empty or only whitespace");
    await expect400("POST", "/v1/api-keys", { name: " \t\n\u00a0 " }, "name: cannot be empty or only whitespace");
    await expect400("POST", "/v1/api-keys", { name: "\u200b\u200d\u2060\ufeff" }, "name: cannot be empty or only whitespace or invisible");
    await expect400("POST", "/v1/api-keys", { name: "a\u0000b" }, "name: cannot hold control characters");
    await expect400("POST", "/v1/api-keys", { name: "line\nbreak" }, "name: cannot hold control characters");
    await expect400("POST", "/v1/api-keys", { name: "n".repeat(201) }, "name: must be at most 200 characters");
    await expect400("PATCH", `/v1/api-keys/${keyId}`, { name: "   " }, "name: cannot be empty");
    await expect400("PATCH", `/v1/api-keys/${keyId}`, { name: "n".repeat(201) }, "at most 200");
    // The schema's maxLength counts the name as sent, before trimming.
    await expect400("PATCH", `/v1/api-keys/${keyId}`, { name: `\n${"*".repeat(200)}` }, "at most 200");
    await expect400("POST", "/v1/api-keys", { name: ` ${"n".repeat(200)} ` }, "at most 200");

    expect((await api("POST", "/v1/api-keys", { json: { name: "n".repeat(200) } })).status).toBe(201);
    // Characters, not UTF-16 code units: 200 emoji are a valid name.
    expect((await api("POST", "/v1/api-keys", { json: { name: "🔑".repeat(200) } })).status).toBe(201);
  });

  it("rejects NoSQL operators, wrong types and unknown fields", async () => {
    const post = (json: unknown, detail?: string | RegExp) => expect400("POST", "/v1/api-keys", json, detail);
    await post({ name: { $gt: "" } }, "name: must be a string, got object");
    await post({ name: { $ne: null }, scopes: [] }, "name: must be a string");
    await post({ $where: "sleep(1000)", name: "x" }, "unknown field (a field not shown)");
    await post({ name: "x", scopes: [{ $ne: null }] }, "scopes: must be an array of strings");
    await post({ name: "x", workspaceId: { $exists: true } }, "workspaceId: must be a string or null");
    await post({ name: "x", expiresAt: { $gt: "2000-01-01" } }, "expiresAt");
    await post({ name: 42 }, "got number");
    await post({ name: null }, "got null");
    await post({ name: ["x"] }, "got array");
    await post({ name: true }, "got boolean");
    await post({ name: "x", scopes: "read" }, "scopes: must be an array of strings, got string");
    await post({ name: "x", scopes: ["bad scope"] }, "scopes");
    await post({ name: "x", scopes: Array.from({ length: 51 }, (_, i) => `s${i}`) }, "at most 50 scopes");
    await post({ name: "x", mode: "LIVE" }, 'mode: must be one of "live", "test"');
    await post({ name: "x", mode: 1 }, "mode");
    await post({ name: "x", kind: "admin" }, 'kind: must be one of "standard", "master"');
    await post({ name: "x", admin: true }, 'unknown field "admin"');
    await post({ name: "x", organizationId: "someone-else" }, 'unknown field "organizationId"');
    await post({ name: "x", key: "sk_live_mine" }, 'unknown field "key"');
    await post({ name: "x", active: false, enabled: false }, 'unknown fields "active", "enabled"');
    await post(JSON.parse('{"name": "x", "__proto__": {"admin": true}}'), "unknown field (a field not shown)");
    // A key pasted where a field name goes is never echoed back.
    const pasted = `sk_live_${"A".repeat(49)}`;
    const echoed = await api("POST", "/v1/api-keys", { json: { name: "x", [pasted]: true } });
    expect(echoed.status).toBe(400);
    expect(echoed.text).not.toContain(pasted.slice(8));
    await post({ name: "x", constructor: { prototype: {} } }, 'unknown field "constructor"');
    for (const body of [[], ["name"], "name", 42, null, true]) {
      await post(body, "request body: must be a JSON object");
    }
    // Deeply nested input is just a wrong type.
    const deep = `{"name": ${"[".repeat(5000)}${"]".repeat(5000)}}`;
    const reply = await api("POST", "/v1/api-keys", { body: deep, headers: { "content-type": "application/json" } });
    expectProblem(problemOf(reply), 400, "invalid_argument");
  });

  it("checks kind, workspace and expiry", async () => {
    const post = (json: unknown, detail: string | RegExp) => expect400("POST", "/v1/api-keys", json, detail);
    await post({ name: "x", kind: "master", workspaceId: "ws-1" }, /^workspaceId: /);
    await post({ name: "x", workspaceId: "not a valid id!" }, /^workspaceId: /);
    for (const expiresAt of ["tomorrow", "2030-02-30T00:00:00Z", "2030-01-01", "2030-01-01T00:00:00", "2030-01-01T25:00:00Z", "+275760-09-13T00:00:00.000Z"]) {
      await post({ name: "x", expiresAt }, "expiresAt: must be an ISO 8601 date-time");
    }
    await post({ name: "x", expiresAt: 1_893_456_000 }, "expiresAt: must be an ISO 8601 date-time string or null");
    await post({ name: "x", expiresAt: "2001-01-01T00:00:00Z" }, "expiresAt: must be in the future");

    const offset = await api("POST", "/v1/api-keys", { json: { name: "x", expiresAt: "2099-06-01T12:00:00.5+02:00" } });
    expect(offset.status).toBe(201);
    expect(offset.body.expiresAt).toBe("2099-06-01T10:00:00.500Z");
  });

  it("checks PATCH and roll bodies the same way", async () => {
    const patch = (json: unknown, detail: string | RegExp) => expect400("PATCH", `/v1/api-keys/${keyId}`, json, detail);
    await patch({}, "names no field to change");
    await patch({ enabled: "false" }, "enabled: must be true or false, got string");
    await patch({ enabled: null }, "enabled");
    await patch({ scopes: null }, "scopes: must be an array of strings, got null");
    await patch({ name: { $set: "x" } }, "name: must be a string");
    await patch({ active: true }, 'unknown field "active"');
    await patch({ id: "another" }, 'unknown field "id"');
    await patch({ mode: "test" }, 'unknown field "mode"');
    await patch([{ name: "x" }], "must be a JSON object");
    const empty = await api("PATCH", `/v1/api-keys/${keyId}`);
    expectProblem(problemOf(empty), 400, "invalid_argument");

    const roll = (json: unknown) => expect400("POST", `/v1/api-keys/${keyId}/roll`, json, "gracePeriodSeconds");
    for (const gracePeriodSeconds of [-1, 1.5, "60", null, { $gt: 0 }, 30 * 86400 + 1, 1e300]) {
      await roll({ gracePeriodSeconds });
    }
    await expect400("POST", `/v1/api-keys/${keyId}/roll`, { grace: 60 }, 'unknown field "grace"');

    // The target key is still as it was.
    expect((await api("GET", `/v1/api-keys/${keyId}`)).body).toMatchObject({ name: "target", active: true, enabled: true });
  });
});

describe("request bodies on the wire", () => {
  it("answers 415 when a body is not application/json", async () => {
    const body = JSON.stringify({ name: "x" });
    for (const [method, path] of [
      ["POST", "/v1/api-keys"],
      ["PATCH", `/v1/api-keys/${keyId}`],
      ["POST", `/v1/api-keys/${keyId}/roll`],
    ] as const) {
      for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", "application/jsonp"]) {
        const reply = await api(method, path, { body, headers: { "content-type": type } });
        expectProblem(problemOf(reply), 415, "unsupported_media_type");
      }
    }
    // No content type at all.
    const untyped = await rawRequest(baseUrl, "POST", "/v1/api-keys", { ...bearer(token), "content-length": String(body.length) }, Buffer.from(body));
    expectProblem({ status: untyped.status, body: JSON.parse(untyped.text), contentType: untyped.headers["content-type"] }, 415, "unsupported_media_type");

    for (const type of ["application/json; charset=utf-8", "APPLICATION/JSON", 'application/json;charset="UTF-8"']) {
      expect((await api("POST", "/v1/api-keys", { body, headers: { "content-type": type } })).status).toBe(201);
    }
  });

  it("answers 400 for invalid JSON and for an empty body where one is required", async () => {
    for (const text of ['{"name": "x"', "{'name': 'x'}", '{"name": "x"} trailing', "NaN", '{"name": "\\ud800"', "\u0000"]) {
      const reply = await api("POST", "/v1/api-keys", { body: text, headers: { "content-type": "application/json" } });
      expectProblem(problemOf(reply), 400, "invalid_json");
    }
    for (const text of ["", "   \n"]) {
      const reply = await api("POST", "/v1/api-keys", { body: text, headers: { "content-type": "application/json" } });
      expectProblem(problemOf(reply), 400, "invalid_argument");
      expect(reply.body.detail).toContain("request body: is required");
    }
  });

  it("answers 400 for invalid UTF-8 (raw bytes)", async () => {
    const sequences = [
      Buffer.from([0xff, 0xfe]), // never valid
      Buffer.from([0xc0, 0xaf]), // overlong "/"
      Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate
      Buffer.from([0xe2, 0x82]), // truncated
    ];
    for (const bad of sequences) {
      const body = Buffer.concat([Buffer.from('{"name": "a'), bad, Buffer.from('"}')]);
      const reply = await rawRequest(baseUrl, "POST", "/v1/api-keys", { ...bearer(token), "content-type": "application/json" }, body);
      expectProblem({ status: reply.status, body: JSON.parse(reply.text), contentType: reply.headers["content-type"] }, 400, "invalid_utf8");
    }
    const valid = Buffer.from('{"name": "naïve ключ 🔑"}', "utf8");
    const ok = await rawRequest(baseUrl, "POST", "/v1/api-keys", { ...bearer(token), "content-type": "application/json" }, valid);
    expect(ok.status).toBe(201);
    expect(JSON.parse(ok.text).name).toBe("naïve ключ 🔑");
  });

  it(`answers 413 past ${MAX_BODY_BYTES / 1024} KiB: at once for a huge declared length, after the limit for a chunked body`, async () => {
    const port = service.keyward.server.httpPort;
    // Just over the limit with Content-Length (what a browser sends): a clean 413.
    const over = await api("POST", "/v1/api-keys", { json: { name: "x".repeat(MAX_BODY_BYTES) } });
    expectProblem(problemOf(over), 413, "payload_too_large");
    const overPatch = await api("PATCH", `/v1/api-keys/${keyId}`, { json: { name: "x".repeat(MAX_BODY_BYTES + 4000) } });
    expectProblem(problemOf(overPatch), 413, "payload_too_large");
    const overRoll = await api("POST", `/v1/api-keys/${keyId}/roll`, { json: { gracePeriodSeconds: 1, pad: "x".repeat(MAX_BODY_BYTES + 1000) } });
    expectProblem(problemOf(overRoll), 413, "payload_too_large");

    // 10 MiB declared, not one byte sent: answered without waiting for the body, then the connection is closed.
    const huge = await tcpExchange(port, [
      `POST /v1/api-keys HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`,
    ]);
    expect(huge.status).toBe(413);
    expect(huge.headers["content-type"]).toBe("application/problem+json");
    expect(huge.headers["connection"]).toBe("close");
    expect(huge.closed).toBe(true);
    expect(JSON.parse(huge.body)).toMatchObject({ status: 413, code: "payload_too_large" });

    // Chunked (no length to check up front): counted while reading.
    const chunk = `${(1024).toString(16)}\r\n${"x".repeat(1024)}\r\n`;
    const chunked = await tcpExchange(port, [
      `POST /v1/api-keys HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      `${(9).toString(16)}\r\n{"name":"\r\n`,
      ...Array.from({ length: MAX_BODY_BYTES / 1024 + 4 }, () => chunk),
      `2\r\n"}\r\n0\r\n\r\n`,
    ]);
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ status: 413, code: "payload_too_large" });

    // A small chunked body is fine.
    const small = await tcpExchange(port, [
      `POST /v1/api-keys HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      `e\r\n{"name":"tiny"\r\n1\r\n}\r\n0\r\n\r\n`,
    ]);
    expect(small.status).toBe(201);
  });

  it("answers a body sent to an unauthenticated or unknown route without a reset", async () => {
    const body = JSON.stringify({ name: "x".repeat(MAX_BODY_BYTES + 4000) });
    const anonymous = await call(baseUrl, "POST", "/v1/api-keys", { body, headers: { "content-type": "application/json" } });
    expect(anonymous.status).toBe(401);
    const nowhere = await api("POST", "/v1/nowhere", { body, headers: { "content-type": "application/json" } });
    expect(nowhere.status).toBe(404);
  });
});

describe("routes, methods and query parameters", () => {
  it("answers unknown routes with 404 problem+json", async () => {
    for (const path of ["/v1", "/v1/", "/v1/api-keys/", "/v1/API-KEYS", "/v1/api-keys/a/b", `/v1/api-keys/${keyId}/roll/again`, "/v1/unknown", "/v2/api-keys", "/", "/v1//api-keys"]) {
      const reply = await api("GET", path);
      expect(reply.status, path).toBe(404);
      expectProblem(problemOf(reply), 404, "not_found");
    }
    // Paths are taken as sent, never normalized (fetch would resolve the dots itself).
    for (const path of ["/v1/api-keys/../openapi.json", "/v1/./api-keys", "/v1/api-keys/%2e%2e/openapi.json/x"]) {
      const reply = await rawRequest(baseUrl, "GET", path, bearer(token));
      expect(reply.status, path).toBe(404);
      expect(reply.headers["content-type"]).toBe("application/problem+json");
    }
  });

  it("answers a method a path does not serve with 405 and Allow", async () => {
    const cases: [string, string, string][] = [
      ["PUT", "/v1/api-keys", "GET, POST, OPTIONS"],
      ["DELETE", "/v1/api-keys", "GET, POST, OPTIONS"],
      ["POST", `/v1/api-keys/${keyId}`, "GET, PATCH, DELETE, OPTIONS"],
      ["PUT", `/v1/api-keys/${keyId}`, "GET, PATCH, DELETE, OPTIONS"],
      ["GET", `/v1/api-keys/${keyId}/roll`, "POST, OPTIONS"],
      ["POST", "/v1/openapi.json", "GET, OPTIONS"],
    ];
    for (const [method, path, allow] of cases) {
      const reply = await api(method, path, method === "PUT" || method === "POST" ? { json: { name: "x" } } : {});
      expectProblem(problemOf(reply), 405, "method_not_allowed");
      expect(reply.headers.get("allow")).toBe(allow);
    }
    const head = await api("HEAD", "/v1/api-keys");
    expect(head.status).toBe(405);
    expect(head.headers.get("allow")).toBe("GET, POST, OPTIONS");
  });

  it("rejects bad ids, bad paging and unknown query parameters with 400", async () => {
    for (const path of ["/v1/api-keys/%24gt", "/v1/api-keys/%FF", "/v1/api-keys/%E0%A4%A", `/v1/api-keys/${"a".repeat(129)}`, "/v1/api-keys/a%20b"]) {
      const reply = await api("GET", path);
      expectProblem(problemOf(reply), 400, "invalid_argument");
      expect(reply.body.detail, path).toMatch(/^id: /);
    }
    for (const query of ["limit=0", "limit=101", "limit=abc", "limit=1.5", "limit=-1", "limit=", "limit=1&limit=2", "cursor=", "cursor=bm90LWEtdXVpZA", "cursor=%7B%22%24gt%22%3A%22%22%7D", "mode=LIVE", "active=yes", "sort=name", "cursor[$gt]="]) {
      const reply = await api("GET", `/v1/api-keys?${query}`);
      expectProblem(problemOf(reply), 400, "invalid_argument");
    }
    expect((await api("GET", "/v1/api-keys?cursor=nope")).body.detail).toMatch(/^cursor: /);
    expect((await api("GET", `/v1/api-keys/${keyId}?expand=all`)).status).toBe(400);
  });

  it("is still healthy after all of the above", async () => {
    expect((await call(baseUrl, "GET", "/healthz")).status).toBe(200);
    expect((await api("POST", "/v1/api-keys", { json: { name: "after the storm" } })).status).toBe(201);
  });
});
