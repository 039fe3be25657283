/**
 * IP allowlists over RPC on the real server (FerretDB, Redis): set on create
 * and update (normalized, validated), matched by Verify against `client_ip`
 * (IPv4, IPv6, CIDRs, IPv4-mapped), in its place among the checks.
 */
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { KeyKind } from "../../gen/authn/v1/common_pb.js";
import { bearer, disable, header, newKey, newOrganization, problem } from "../support/fixtures.js";
import { startTestKeyward } from "../support/keyward.js";
import type { Clients, TestKeyward } from "../support/keyward.js";

let service: TestKeyward;
let clients: Clients;

beforeAll(async () => {
  // A long cache TTL: only invalidation can make a change visible to Verify.
  service = await startTestKeyward({ env: { REDIS_URL: inject("redisUrl"), KEYWARD_CACHE_TTL_MS: "3600000" } });
  clients = service.clients("grpc");
});
afterAll(async () => {
  await service?.stop();
});

const mask = (...paths: string[]) => create(FieldMaskSchema, { paths });

async function rpcError(call: Promise<unknown>): Promise<ConnectError> {
  const error = await call.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

describe("setting an allowlist", () => {
  it("stores it normalized on create and update, and an empty list lifts it", async () => {
    const org = await newOrganization(clients);
    const created = await clients.apiKeys.createApiKey({
      organizationId: org,
      name: "office",
      ipAllowlist: ["10.1.2.3/8", "2001:DB8:0:0::/32", "::ffff:203.0.113.7", "203.0.113.7"],
    });
    expect(created.apiKey?.ipAllowlist).toEqual(["10.0.0.0/8", "2001:db8::/32", "203.0.113.7"]);
    const id = created.apiKey?.id ?? "";
    const updated = await clients.apiKeys.updateApiKey({ organizationId: org, id, ipAllowlist: ["198.51.100.0/24"], updateMask: mask("ip_allowlist") });
    expect(updated.apiKey?.ipAllowlist).toEqual(["198.51.100.0/24"]);
    expect((await clients.apiKeys.getApiKey({ organizationId: org, id })).apiKey?.ipAllowlist).toEqual(["198.51.100.0/24"]);
    const lifted = await clients.apiKeys.updateApiKey({ organizationId: org, id, updateMask: mask("ip_allowlist") });
    expect(lifted.apiKey?.ipAllowlist).toEqual([]);
  });

  it("refuses an invalid entry (INVALID_ARGUMENT naming it) and more than 100, changing nothing", async () => {
    const org = await newOrganization(clients);
    for (const entry of ["10.0.0.256", "10.0.0.0/33", "example.com", "fe80::1%eth0", ""]) {
      const error = await rpcError(clients.apiKeys.createApiKey({ organizationId: org, name: "x", ipAllowlist: ["10.0.0.0/8", entry] }));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toBe(`ip_allowlist: ${JSON.stringify(entry)} is not an IPv4 or IPv6 address or CIDR`);
    }
    const tooMany = Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`);
    expect((await rpcError(clients.apiKeys.createApiKey({ organizationId: org, name: "x", ipAllowlist: tooMany }))).rawMessage).toBe(
      "ip_allowlist: at most 100 entries",
    );
    expect((await clients.apiKeys.listApiKeys({ organizationId: org })).apiKeys).toEqual([]);

    const { id } = await newKey(clients, org, { ipAllowlist: ["10.0.0.0/8"] });
    const error = await rpcError(clients.apiKeys.updateApiKey({ organizationId: org, id, ipAllowlist: ["10.0.0.x"], updateMask: mask("ip_allowlist") }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect((await clients.apiKeys.getApiKey({ organizationId: org, id })).apiKey?.ipAllowlist).toEqual(["10.0.0.0/8"]);
  });
});

describe("Verify with an allowlist", () => {
  it.each([
    ["an exact IPv4 address", ["203.0.113.7"], "203.0.113.7", true],
    ["the next IPv4 address", ["203.0.113.7"], "203.0.113.8", false],
    ["an IPv4 CIDR, first address", ["10.0.0.0/8"], "10.0.0.0", true],
    ["an IPv4 CIDR, last address", ["10.0.0.0/8"], "10.255.255.255", true],
    ["just outside an IPv4 CIDR", ["10.0.0.0/8"], "11.0.0.0", false],
    ["an exact IPv6 address, other spelling", ["2001:db8::1"], "2001:0DB8:0:0:0:0:0:1", true],
    ["an IPv6 CIDR", ["2001:db8::/32"], "2001:db8:ffff::42", true],
    ["outside an IPv6 CIDR", ["2001:db8::/32"], "2001:db9::1", false],
    ["an IPv4-mapped client against an IPv4 entry", ["192.0.2.0/24"], "::ffff:192.0.2.10", true],
    ["an IPv4 client against an IPv4-mapped entry", ["::ffff:192.0.2.10"], "192.0.2.10", true],
    ["an IPv6 client against IPv4 entries", ["0.0.0.0/0"], "::1", false],
    ["one of several entries", ["10.0.0.0/8", "2001:db8::/32", "198.51.100.1"], "198.51.100.1", true],
  ])("%s: %j from %s → allowed %s", async (_what, allowlist, clientIp, allowed) => {
    const org = await newOrganization(clients);
    const { key } = await newKey(clients, org, { ipAllowlist: allowlist });
    const verdict = await clients.auth.verify({ headers: bearer(key), clientIp });
    expect(verdict.allowed).toBe(allowed);
    expect(verdict.code).toBe(allowed ? VerifyCode.OK : VerifyCode.IP_NOT_ALLOWED);
  });

  it("denies 403 IP_NOT_ALLOWED (problem+json) when the client address is missing or outside, revealing nothing of the key", async () => {
    const org = await newOrganization(clients);
    const { key } = await newKey(clients, org, { ipAllowlist: ["10.0.0.0/8"] });
    for (const clientIp of ["", "192.0.2.1"]) {
      const verdict = await clients.auth.verify({ headers: bearer(key), clientIp });
      expect(verdict).toMatchObject({ allowed: false, code: VerifyCode.IP_NOT_ALLOWED, organizationId: "", keyId: "" });
      expect(verdict.http?.status).toBe(403);
      expect(header(verdict, "content-type")).toEqual(["application/problem+json"]);
      expect(problem(verdict)).toEqual({
        type: "about:blank",
        title: "Forbidden",
        status: 403,
        detail: "API key is not allowed from this IP address",
        code: "ip_not_allowed",
      });
      expect(verdict.metadata).toEqual({});
    }
  });

  it("refuses a malformed client_ip (INVALID_ARGUMENT), with or without an allowlist", async () => {
    const org = await newOrganization(clients);
    const open = await newKey(clients, org);
    const restricted = await newKey(clients, org, { ipAllowlist: ["10.0.0.0/8"] });
    for (const { key } of [open, restricted]) {
      for (const clientIp of ["10.0.0.300", "not-an-ip", "10.0.0.1/32", "10.0.0.1 ", "fe80::1%eth0", "x".repeat(500)]) {
        const error = await rpcError(clients.auth.verify({ headers: bearer(key), clientIp }));
        expect(error.code).toBe(Code.InvalidArgument);
        expect(error.rawMessage).toBe("client_ip: is not an IPv4 or IPv6 address");
      }
    }
    expect((await clients.auth.verify({ headers: bearer(open.key), clientIp: "192.0.2.1" })).allowed).toBe(true);
  });

  it("checks after lifecycle and organization, before workspace and scope", async () => {
    const org = await newOrganization(clients, ["ws-1"]);
    const outside = "192.0.2.1";
    const disabled = await newKey(clients, org, { ipAllowlist: ["10.0.0.0/8"] });
    await disable(clients, org, disabled.id);
    const master = await newKey(clients, org, { kind: KeyKind.MASTER, scopes: ["read"], ipAllowlist: ["10.0.0.0/8"] });
    const bound = await newKey(clients, org, { scopes: ["read"], workspaceId: "ws-1", ipAllowlist: ["10.0.0.0/8"] });

    // Lifecycle first.
    expect((await clients.auth.verify({ headers: bearer(disabled.key), clientIp: outside })).code).toBe(VerifyCode.KEY_DISABLED);
    // Before workspace: a master key naming no workspace, from outside.
    expect((await clients.auth.verify({ headers: bearer(master.key), clientIp: outside })).code).toBe(VerifyCode.IP_NOT_ALLOWED);
    expect((await clients.auth.verify({ headers: bearer(master.key), clientIp: "10.0.0.1" })).code).toBe(VerifyCode.WORKSPACE_REQUIRED);
    // Before workspace and scope: another workspace and a missing scope, from outside.
    const both = { headers: bearer(bound.key), workspaceId: "ws-2", requiredScope: "send" };
    expect((await clients.auth.verify({ ...both, clientIp: outside })).code).toBe(VerifyCode.IP_NOT_ALLOWED);
    expect((await clients.auth.verify({ ...both, clientIp: "10.0.0.1" })).code).toBe(VerifyCode.WORKSPACE_FORBIDDEN);
    expect((await clients.auth.verify({ headers: bearer(bound.key), requiredScope: "send", clientIp: outside })).code).toBe(VerifyCode.IP_NOT_ALLOWED);
    expect((await clients.auth.verify({ headers: bearer(bound.key), requiredScope: "send", clientIp: "10.0.0.1" })).code).toBe(
      VerifyCode.INSUFFICIENT_SCOPE,
    );
    // Organization before the allowlist.
    await clients.organizations.suspendOrganization({ id: org });
    expect((await clients.auth.verify({ headers: bearer(bound.key), clientIp: outside })).code).toBe(VerifyCode.ORGANIZATION_SUSPENDED);
  });

  it("applies a change at once though the key is cached: narrowing, widening and lifting", async () => {
    const org = await newOrganization(clients);
    const { id, key } = await newKey(clients, org, { ipAllowlist: ["10.0.0.0/8"] });
    const from = async (clientIp: string) => (await clients.auth.verify({ headers: bearer(key), clientIp })).code;
    expect(await from("10.0.0.1")).toBe(VerifyCode.OK);
    await clients.apiKeys.updateApiKey({ organizationId: org, id, ipAllowlist: ["192.0.2.0/24"], updateMask: mask("ip_allowlist") });
    expect(await from("10.0.0.1")).toBe(VerifyCode.IP_NOT_ALLOWED);
    expect(await from("192.0.2.9")).toBe(VerifyCode.OK);
    await clients.apiKeys.updateApiKey({ organizationId: org, id, updateMask: mask("ip_allowlist") });
    expect(await from("10.0.0.1")).toBe(VerifyCode.OK);
    expect((await clients.auth.verify({ headers: bearer(key) })).code).toBe(VerifyCode.OK);
  });
});
