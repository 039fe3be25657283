/**
 * GET /v1/openapi.json against the running server: every documented route,
 * method and status is produced by a request here, with the documented
 * content type, body schema and required headers; every route the server
 * serves is documented; nothing undocumented is produced by these requests.
 */
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrganizationSchema } from "../../gen/authn/v1/organization_pb.js";
import { OPENAPI_DOCUMENT } from "../../src/rest/openapi.js";
import { MAX_BODY_BYTES } from "../../src/rest/request-body.js";
import { REST_ROUTES } from "../../src/rest/routes.js";
import { startFerretDb } from "../setup/servers.js";
import type { FerretDbServer } from "../setup/servers.js";
import type { TestKeyward } from "../support/keyward.js";
import { checkSchema } from "./json-schema.js";
import type { JsonReply } from "./support.js";
import { bearer, call, newOrganizationId, startRestKeyward, userToken } from "./support.js";

type Doc = Record<string, any>;
const METHODS = ["get", "post", "put", "patch", "delete", "options", "head"];
const MISSING_ID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

let service: TestKeyward;
let outage: TestKeyward;
let outageStore: FerretDbServer;

beforeAll(async () => {
  outageStore = await startFerretDb();
  [service, outage] = await Promise.all([
    startRestKeyward(),
    startRestKeyward({ MONGODB_URI: outageStore.uri, KEYWARD_MONGODB_DATABASE: "keyward_openapi" }),
  ]);
});
afterAll(async () => {
  await Promise.all([service?.stop(), outage?.stop()]);
  await outageStore?.stop({ removeDir: true });
});

/** One request meant to produce `status` from `method path` (a documented template). */
interface Probe {
  method: string;
  path: string;
  status: number;
  send: () => Promise<JsonReply>;
}

const resolve = (doc: Doc, node: Doc): Doc =>
  typeof node?.$ref === "string" ? resolve(doc, node.$ref.slice(2).split("/").reduce((n: Doc, p: string) => n[p], doc)) : node;

/** Every (path, method, status) the document names. */
function documented(doc: Doc): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries<Doc>(doc.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      for (const status of Object.keys(operation.responses)) out.add(`${method.toUpperCase()} ${path} ${status}`);
    }
  }
  return out;
}

/** Checks a reply against what the document says of that status. */
function conforms(doc: Doc, probe: Probe, reply: JsonReply): string[] {
  const label = `${probe.method} ${probe.path} ${probe.status}`;
  const operation = doc.paths[probe.path]?.[probe.method.toLowerCase()];
  const response = resolve(doc, operation?.responses?.[String(reply.status)]);
  if (!response) return [`${label}: answered ${reply.status}, which is not documented`];
  const problems: string[] = [];
  for (const [name, header] of Object.entries<Doc>(response.headers ?? {})) {
    if (header.required && reply.headers.get(name) === null) problems.push(`${label}: header ${name} missing`);
  }
  const content: Doc | undefined = response.content;
  if (!content) {
    if (reply.text !== "") problems.push(`${label}: body not documented: ${reply.text.slice(0, 80)}`);
    return problems;
  }
  const type = reply.headers.get("content-type") ?? "";
  const media = content[type];
  if (!media) return [...problems, `${label}: content type ${type}, documented ${Object.keys(content).join(", ")}`];
  return [...problems, ...checkSchema(reply.body, media.schema, doc, label)];
}

describe("GET /v1/openapi.json", () => {
  it("serves the hand-written OpenAPI 3.1 document, every reference resolving", async () => {
    const reply = await call(service.keyward.server.httpUrl, "GET", "/v1/openapi.json");
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toBe("application/json");
    expect(reply.body).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
    expect(reply.body.openapi).toBe("3.1.0");
    const refs = JSON.stringify(reply.body).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(resolve(reply.body, JSON.parse(`{${ref}}`)), ref).toBeTruthy();
  });

  it("documents exactly the routes and methods the server serves", async () => {
    const doc: Doc = OPENAPI_DOCUMENT;
    const served = new Set<string>(["GET /healthz", "GET /readyz"]);
    for (const route of REST_ROUTES) {
      served.add(`${route.method} ${route.path}`);
      served.add(`OPTIONS ${route.path}`);
    }
    const inDoc = new Set<string>();
    for (const [path, item] of Object.entries<Doc>(doc.paths)) {
      for (const method of METHODS) if (item[method]) inDoc.add(`${method.toUpperCase()} ${path}`);
    }
    expect([...inDoc].sort()).toEqual([...served].sort());

    // And from outside: every other method on a documented /v1 path is 405 with the documented methods.
    const baseUrl = service.keyward.server.httpUrl;
    for (const [path, item] of Object.entries<Doc>(doc.paths)) {
      if (!path.startsWith("/v1/")) continue;
      const allowed = METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => !allowed.includes(m))) {
        const reply = await call(baseUrl, method, path.replace("{id}", MISSING_ID));
        expect(reply.status, `${method} ${path}`).toBe(405);
        expect(reply.headers.get("allow")?.split(", ").sort()).toEqual([...allowed].sort());
      }
    }
  });

  it("produces every documented status of every route, each as documented", async () => {
    const doc: Doc = JSON.parse(JSON.stringify(OPENAPI_DOCUMENT));
    const baseUrl = service.keyward.server.httpUrl;
    const { organizations } = service.clients("connect");

    // An organization with a user, a key of another scope, a live key and a revoked one.
    const organizationId = newOrganizationId();
    const user = bearer(await userToken(organizationId));
    const make = async (name: string, scopes: string[] = []) =>
      (await call(baseUrl, "POST", "/v1/api-keys", { headers: user, json: { name, scopes } })).body as { id: string; key: string };
    const target = await make("target");
    const revoked = await make("revoked");
    await call(baseUrl, "DELETE", `/v1/api-keys/${revoked.id}`, { headers: user });
    const sender = bearer((await make("sender", ["send"])).key);

    // An organization whose pool (1 per hour) is spent.
    const limitedId = newOrganizationId();
    await organizations.upsertOrganization({
      organization: create(OrganizationSchema, { id: limitedId, rateLimit: { limit: 1, window: durationFromMs(3_600_000) } }),
    });
    const limited = bearer(await userToken(limitedId));
    expect((await call(baseUrl, "GET", "/v1/api-keys", { headers: limited })).status).toBe(200);

    const json = (value: unknown) => ({ json: value });
    const text = { body: "name=x", headers: { "content-type": "text/plain" } };
    const big = json({ name: "x".repeat(MAX_BODY_BYTES + 1024) });
    const id = target.id;
    const probe = (method: string, path: string, status: number, concrete: string, headers: Record<string, string>, options: { json?: unknown; body?: string; headers?: Record<string, string> } = {}): Probe => ({
      method,
      path,
      status,
      send: () => call(baseUrl, method, concrete, { ...options, headers: { ...headers, ...options.headers } }),
    });
    const preflight = (path: string, concrete: string): Probe =>
      probe("OPTIONS", path, 204, concrete, { origin: "https://dashboard.example", "access-control-request-method": "GET" });

    const list = "/v1/api-keys";
    const one = "/v1/api-keys/{id}";
    const roll = "/v1/api-keys/{id}/roll";
    const usage = "/v1/api-keys/{id}/usage";
    const audit = "/v1/audit-events";
    const probes: Probe[] = [
      probe("GET", "/v1/openapi.json", 200, "/v1/openapi.json", {}),
      probe("GET", "/v1/openapi.json", 400, "/v1/openapi.json?v=2", {}),
      probe("GET", "/healthz", 200, "/healthz", {}),
      probe("GET", "/readyz", 200, "/readyz", {}),
      preflight("/v1/openapi.json", "/v1/openapi.json"),
      preflight(list, list),
      preflight(one, `/v1/api-keys/${id}`),
      preflight(roll, `/v1/api-keys/${id}/roll`),
      preflight(usage, `/v1/api-keys/${id}/usage`),
      preflight(audit, audit),

      probe("POST", list, 201, list, user, json({ name: "made" })),
      probe("GET", list, 200, `${list}?limit=1`, user),
      probe("GET", one, 200, `/v1/api-keys/${id}`, user),
      probe("PATCH", one, 200, `/v1/api-keys/${id}`, user, json({ name: "renamed" })),
      probe("POST", roll, 201, `/v1/api-keys/${id}/roll`, user, json({ gracePeriodSeconds: 60 })),
      probe("DELETE", one, 200, `/v1/api-keys/${(await make("to delete")).id}`, user),
      probe("GET", audit, 200, `${audit}?limit=2&action=api_key.create`, user),
      probe("GET", usage, 200, `/v1/api-keys/${id}/usage?granularity=day`, user),
      probe("GET", usage, 400, `/v1/api-keys/${id}/usage?granularity=week`, user),
      probe("GET", usage, 404, `/v1/api-keys/${MISSING_ID}/usage`, user),

      probe("POST", list, 400, list, user, json({ name: { $gt: "" } })),
      probe("GET", list, 400, `${list}?limit=0`, user),
      probe("GET", one, 400, "/v1/api-keys/%24gt", user),
      probe("PATCH", one, 400, `/v1/api-keys/${id}`, user, json({})),
      probe("DELETE", one, 400, "/v1/api-keys/%FF", user),
      probe("POST", roll, 400, `/v1/api-keys/${id}/roll`, user, json({ gracePeriodSeconds: -1 })),
      probe("GET", audit, 400, `${audit}?action=api_key.explode`, user),

      probe("GET", one, 404, `/v1/api-keys/${MISSING_ID}`, user),
      probe("PATCH", one, 404, `/v1/api-keys/${MISSING_ID}`, user, json({ name: "x" })),
      probe("DELETE", one, 404, `/v1/api-keys/${MISSING_ID}`, user),
      probe("POST", roll, 404, `/v1/api-keys/${MISSING_ID}/roll`, user),
      probe("PATCH", one, 409, `/v1/api-keys/${revoked.id}`, user, json({ enabled: false })),
      probe("POST", roll, 409, `/v1/api-keys/${revoked.id}/roll`, user),

      probe("POST", list, 413, list, user, big),
      probe("PATCH", one, 413, `/v1/api-keys/${id}`, user, big),
      probe("POST", roll, 413, `/v1/api-keys/${id}/roll`, user, big),
      probe("POST", list, 415, list, user, text),
      probe("PATCH", one, 415, `/v1/api-keys/${id}`, user, text),
      probe("POST", roll, 415, `/v1/api-keys/${id}/roll`, user, text),
    ];
    // 401 (no credential), 403 (a key without api_keys scopes) and 429 (a spent pool) on every API operation.
    const operations: [string, string, string, { json?: unknown }][] = [
      ["GET", list, list, {}],
      ["POST", list, list, json({ name: "x" })],
      ["GET", one, `/v1/api-keys/${id}`, {}],
      ["PATCH", one, `/v1/api-keys/${id}`, json({ name: "x" })],
      ["DELETE", one, `/v1/api-keys/${id}`, {}],
      ["POST", roll, `/v1/api-keys/${id}/roll`, {}],
      ["GET", audit, audit, {}],
      ["GET", usage, `/v1/api-keys/${id}/usage`, {}],
    ];
    for (const [method, path, concrete, options] of operations) {
      probes.push(
        probe(method, path, 401, concrete, {}, options),
        probe(method, path, 403, concrete, sender, options),
        probe(method, path, 429, concrete, limited, options),
      );
    }

    const problems: string[] = [];
    const produced = new Set<string>();
    const record = (probe: Probe, reply: JsonReply) => {
      expect(reply.status, `${probe.method} ${probe.path} (wanted ${probe.status}): ${reply.text.slice(0, 200)}`).toBe(probe.status);
      produced.add(`${probe.method} ${probe.path} ${reply.status}`);
      problems.push(...conforms(doc, probe, reply));
    };
    for (const probe of probes) record(probe, await probe.send());

    // 503: the same operations, and readiness, with storage down.
    const outageUrl = outage.keyward.server.httpUrl;
    const outageUser = bearer(await userToken(newOrganizationId()));
    await outageStore.stop();
    const outageProbes: Probe[] = [
      { method: "GET", path: "/readyz", status: 503, send: () => call(outageUrl, "GET", "/readyz") },
      ...operations.map(([method, path, concrete, options]): Probe => ({
        method,
        path,
        status: 503,
        send: () => call(outageUrl, method, concrete.replace(id, MISSING_ID), { ...options, headers: outageUser }),
      })),
    ];
    const replies = await Promise.all(outageProbes.map((p) => p.send()));
    outageProbes.forEach((p, i) => record(p, replies[i] as JsonReply));

    expect(problems).toEqual([]);
    expect([...produced].sort()).toEqual([...documented(doc)].sort());
  });
});
