/**
 * Verify for each seed platform, with its headers exactly as its docs show
 * them, through real gRPC and Connect clients against the real server on the
 * real MongoDB-compatible store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Principal, VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { KeyKind, Mode } from "../../gen/authn/v1/common_pb.js";
import { startTestKeyward } from "../support/keyward.js";
import type { Clients, Protocol, TestKeyward } from "../support/keyward.js";
import { bearer, header, newKey, newOrganization, observable, problem, sent } from "../support/fixtures.js";

let service: TestKeyward;
beforeAll(async () => {
  service = await startTestKeyward();
});
afterAll(() => service?.stop());

describe.each(["grpc", "connect"] as Protocol[])("over %s", (protocol) => {
  let clients: Clients;
  beforeAll(() => {
    clients = service.clients(protocol);
  });

  describe("Sent: x-api-key + x-sender-id", () => {
    it("allows the key with its organization's sender id", async () => {
      const org = await newOrganization(clients);
      const { id, key } = await newKey(clients, org);
      const verdict = await clients.auth.verify({ headers: sent(key, org) });
      expect(verdict).toMatchObject({
        allowed: true,
        code: VerifyCode.OK,
        organizationId: org,
        keyId: id,
        mode: Mode.LIVE,
        principal: Principal.API_KEY,
        unscoped: true,
      });
      expect(verdict.http?.status).toBe(200);
      // Header names are case-insensitive and values trimmed.
      const shouty = await clients.auth.verify({
        headers: [
          { name: "X-Sender-Id", value: `  ${org.toUpperCase()} ` },
          { name: "X-API-KEY", value: ` ${key}` },
        ],
      });
      expect(shouty.code).toBe(VerifyCode.OK);
    });

    it("answers the seed's errors word for word", async () => {
      const org = await newOrganization(clients);
      const { key } = await newKey(clients, org);

      const missing = await clients.auth.verify({ headers: [{ name: "x-sender-id", value: org }] });
      expect(missing.code).toBe(VerifyCode.MISSING_CREDENTIALS);
      expect(problem(missing)).toMatchObject({ status: 401, title: "Unauthorized", detail: "Header x-api-key not found" });

      for (const senderId of [null, "not-a-uuid", `${org}x`]) {
        const headers = senderId === null ? [{ name: "x-api-key", value: key }] : sent(key, senderId);
        const verdict = await clients.auth.verify({ headers });
        expect(verdict.code).toBe(VerifyCode.INVALID_SENDER_ID);
        expect(problem(verdict)).toMatchObject({ status: 401, title: "Unauthorized", detail: "Invalid x-sender-id" });
      }

      const other = await newOrganization(clients);
      const mismatch = await clients.auth.verify({ headers: sent(key, other) });
      expect(mismatch.code).toBe(VerifyCode.INVALID_CREDENTIALS);
      expect(problem(mismatch)).toMatchObject({ status: 401, title: "Unauthorized", detail: "Invalid API credentials!" });
    });

    it("makes another organization's key indistinguishable from an unknown key", async () => {
      const org = await newOrganization(clients);
      const victim = await newOrganization(clients);
      const { key: victimKey } = await newKey(clients, victim);
      const { key: unknownKey } = await newKey(clients, await newOrganization(clients));
      await clients.apiKeys.revokeApiKey({ organizationId: victim, id: (await newKey(clients, victim)).id });
      const revokedVictim = await newKey(clients, victim);
      await clients.apiKeys.revokeApiKey({ organizationId: victim, id: revokedVictim.id });

      const unknown = await clients.auth.verify({ headers: sent(unknownKey.replace(/.{6}$/, ""), org) });
      expect(unknown.code).toBe(VerifyCode.MALFORMED_CREDENTIALS);
      const stranger = observable(await clients.auth.verify({ headers: sent(victimKey, org) }));
      const strangerRevoked = observable(await clients.auth.verify({ headers: sent(revokedVictim.key, org) }));
      const nobody = observable(await clients.auth.verify({ headers: sent(unknownKey, org) }));
      expect(stranger).toEqual(nobody);
      expect(strangerRevoked).toEqual(nobody);
      expect(nobody.code).toBe("INVALID_CREDENTIALS");
      expect(nobody.organizationId).toBe("");
    });
  });

  describe("SenderKit: Bearer sk_live_/sk_test_ with scopes", () => {
    it("reports the mode of live and test keys", async () => {
      const org = await newOrganization(clients);
      const live = await newKey(clients, org, { mode: Mode.LIVE });
      const test = await newKey(clients, org, { mode: Mode.TEST });
      expect((await clients.auth.verify({ headers: bearer(live.key) })).mode).toBe(Mode.LIVE);
      const verdict = await clients.auth.verify({ headers: bearer(test.key) });
      expect(verdict).toMatchObject({ allowed: true, mode: Mode.TEST, keyId: test.id });
    });

    it("maps routes to scopes with the default policy", async () => {
      const org = await newOrganization(clients);
      const reader = await newKey(clients, org, { scopes: ["read"] });
      const sender = await newKey(clients, org, { scopes: ["send", "cancel"] });
      const unscoped = await newKey(clients, org);
      const cases: Array<[string, string, string, VerifyCode]> = [
        [reader.key, "GET", "/v1/messages", VerifyCode.OK],
        [reader.key, "GET", "/v1/messages/msg_123", VerifyCode.OK],
        [reader.key, "GET", "/v1/context", VerifyCode.OK],
        [reader.key, "GET", "/v1/templates/welcome?locale=en", VerifyCode.OK],
        [reader.key, "POST", "/v1/send", VerifyCode.INSUFFICIENT_SCOPE],
        [reader.key, "DELETE", "/v1/messages/msg_123", VerifyCode.INSUFFICIENT_SCOPE],
        [sender.key, "POST", "/v1/send", VerifyCode.OK],
        [sender.key, "POST", "/v1/send-raw", VerifyCode.OK],
        [sender.key, "DELETE", "/v1/messages/msg_123", VerifyCode.OK],
        [sender.key, "GET", "/v1/messages", VerifyCode.INSUFFICIENT_SCOPE],
        [unscoped.key, "POST", "/v1/send", VerifyCode.OK],
        [unscoped.key, "DELETE", "/v1/messages/msg_123", VerifyCode.OK],
      ];
      for (const [key, method, path, code] of cases) {
        const verdict = await clients.auth.verify({ headers: bearer(key), method, path });
        expect(VerifyCode[verdict.code], `${method} ${path}`).toBe(VerifyCode[code]);
      }
    });

    it("answers insufficient_scope with 403 and the caller's identity", async () => {
      const org = await newOrganization(clients);
      const reader = await newKey(clients, org, { scopes: ["read"] });
      const verdict = await clients.auth.verify({ headers: bearer(reader.key), requiredScope: "send" });
      expect(verdict).toMatchObject({ allowed: false, code: VerifyCode.INSUFFICIENT_SCOPE, organizationId: org, scopes: ["read"] });
      expect(verdict.http?.status).toBe(403);
      expect(problem(verdict)).toMatchObject({ status: 403, title: "Forbidden", code: "insufficient_scope" });
      expect(header(verdict, "content-type")).toEqual(["application/problem+json"]);
    });

    it("answers 401 with WWW-Authenticate when the header is missing or not Bearer", async () => {
      const none = await clients.auth.verify({ headers: [{ name: "content-type", value: "application/json" }] });
      expect(none.code).toBe(VerifyCode.MISSING_CREDENTIALS);
      expect(problem(none)).toMatchObject({ status: 401, detail: "Authorization header not found" });
      expect(header(none, "www-authenticate")).toEqual(['Bearer realm="api"']);
      const basic = await clients.auth.verify({ headers: [{ name: "authorization", value: "Basic dXNlcjpwYXNz" }] });
      expect(basic.code).toBe(VerifyCode.MALFORMED_CREDENTIALS);
      expect(basic.http?.status).toBe(401);
      expect(header(basic, "www-authenticate")[0]).toContain('error="invalid_token"');
    });
  });

  describe("SendMailOS: master keys and workspaces", () => {
    it("lets a master key act in each workspace of its organization, named by header or field", async () => {
      const org = await newOrganization(clients, ["ws-a", "ws-b"]);
      const master = await newKey(clients, org, { kind: KeyKind.MASTER });
      for (const ws of ["ws-a", "ws-b"]) {
        const verdict = await clients.auth.verify({
          headers: [...bearer(master.key), { name: "x-workspace-id", value: ws }],
        });
        expect(verdict).toMatchObject({ allowed: true, kind: KeyKind.MASTER, workspaceId: ws });
      }
      const byField = await clients.auth.verify({ headers: bearer(master.key), workspaceId: "ws-b" });
      expect(byField).toMatchObject({ allowed: true, workspaceId: "ws-b" });
    });

    it("requires a workspace for master keys and forbids foreign ones", async () => {
      const org = await newOrganization(clients, ["ws-a"]);
      const master = await newKey(clients, org, { kind: KeyKind.MASTER });
      const none = await clients.auth.verify({ headers: bearer(master.key) });
      expect(none.code).toBe(VerifyCode.WORKSPACE_REQUIRED);
      expect(none.http?.status).toBe(400);
      const foreign = await clients.auth.verify({ headers: bearer(master.key), workspaceId: "ws-elsewhere" });
      expect(foreign.code).toBe(VerifyCode.WORKSPACE_FORBIDDEN);
      expect(foreign.http?.status).toBe(403);
    });

    it("binds a standard key to its one workspace", async () => {
      const org = await newOrganization(clients, ["ws-a", "ws-b"]);
      const bound = await newKey(clients, org, { workspaceId: "ws-a" });
      expect(await clients.auth.verify({ headers: bearer(bound.key) })).toMatchObject({ allowed: true, workspaceId: "ws-a" });
      expect((await clients.auth.verify({ headers: bearer(bound.key), workspaceId: "ws-a" })).allowed).toBe(true);
      const other = await clients.auth.verify({ headers: bearer(bound.key), workspaceId: "ws-b" });
      expect(other.code).toBe(VerifyCode.WORKSPACE_FORBIDDEN);
      const free = await newKey(clients, org);
      expect((await clients.auth.verify({ headers: bearer(free.key), workspaceId: "ws-b" })).workspaceId).toBe("ws-b");
      expect((await clients.auth.verify({ headers: bearer(free.key), workspaceId: "ws-zzz" })).code).toBe(
        VerifyCode.WORKSPACE_FORBIDDEN,
      );
    });
  });

  describe("Sendook: Bearer keys shared by the organization", () => {
    it("identifies the organization from any of its keys", async () => {
      const org = await newOrganization(clients);
      const a = await newKey(clients, org);
      const b = await newKey(clients, org);
      for (const k of [a, b]) {
        const verdict = await clients.auth.verify({ headers: bearer(k.key) });
        expect(verdict).toMatchObject({ allowed: true, organizationId: org, keyId: k.id });
        expect(verdict.rateLimit?.limit).toBe(100_000);
      }
    });
  });

  describe("one credential per request", () => {
    it("denies two different credentials and accepts a repeated identical one", async () => {
      const org = await newOrganization(clients);
      const a = await newKey(clients, org);
      const b = await newKey(clients, org);
      const twoAuth = await clients.auth.verify({ headers: [...bearer(a.key), ...bearer(b.key)] });
      expect(twoAuth.code).toBe(VerifyCode.AMBIGUOUS_CREDENTIALS);
      expect(twoAuth.http?.status).toBe(400);
      const mixed = await clients.auth.verify({ headers: [...bearer(a.key), { name: "x-api-key", value: b.key }, { name: "x-sender-id", value: org }] });
      expect(mixed.code).toBe(VerifyCode.AMBIGUOUS_CREDENTIALS);
      const twoApiKeys = await clients.auth.verify({
        headers: [...sent(a.key, org), { name: "X-Api-Key", value: b.key }],
      });
      expect(twoApiKeys.code).toBe(VerifyCode.AMBIGUOUS_CREDENTIALS);
      const repeated = await clients.auth.verify({ headers: [...bearer(a.key), { name: "AUTHORIZATION", value: `Bearer ${a.key} ` }] });
      expect(repeated.code).toBe(VerifyCode.OK);
    });
  });
});
