/**
 * User access tokens (Sendook's second strategy): JWTs of the platform's
 * identity provider, HS256 or a JWKS (file or URL), through the real server.
 */
import { randomUUID } from "node:crypto";
import { writeFile, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Code } from "@connectrpc/connect";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Principal, VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";

const SECRET = "a-very-long-shared-secret-of-the-identity-provider";
const encoder = new TextEncoder();

function hs256(claims: Record<string, unknown>, secret = SECRET, expiresIn = "5m") {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime(expiresIn).sign(encoder.encode(secret));
}

describe("HS256 user tokens", () => {
  let service: TestKeyward;
  beforeAll(async () => {
    service = await startTestKeyward({ env: { KEYWARD_JWT_SECRET: SECRET, KEYWARD_JWT_ORG_CLAIM: "organization" } });
  });
  afterAll(() => service?.stop());

  it("reports principal USER with the user and organization of the token", async () => {
    const clients = service.clients("connect");
    const org = await newOrganization(clients, ["ws-a"]);
    const token = await hs256({ sub: "user_42", organization: org });
    const verdict = await clients.auth.verify({ headers: bearer(token), workspaceId: "ws-a", method: "POST", path: "/v1/send" });
    expect(verdict).toMatchObject({
      allowed: true,
      code: VerifyCode.OK,
      principal: Principal.USER,
      userId: "user_42",
      organizationId: org,
      keyId: "",
      workspaceId: "ws-a",
      unscoped: true,
    });
    expect(verdict.rateLimit?.limit).toBe(100_000);
  });

  it("denies bad signatures, expired tokens and missing claims as invalid credentials", async () => {
    const clients = service.clients("grpc");
    const org = await newOrganization(clients);
    const tokens = [
      await hs256({ sub: "u", organization: org }, "another-secret-that-is-long-enough-too"),
      await hs256({ sub: "u", organization: org }, SECRET, "-1m"),
      await hs256({ organization: org }),
      await hs256({ sub: "u" }),
      await hs256({ sub: "u", org_id: org }),
      "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.",
    ];
    for (const token of tokens) {
      const verdict = await clients.auth.verify({ headers: bearer(token) });
      expect(verdict.code).toBe(VerifyCode.INVALID_CREDENTIALS);
      expect(verdict.http?.status).toBe(401);
      expect(verdict.userId).toBe("");
    }
  });

  it("applies organization state and workspaces to users", async () => {
    const clients = service.clients("grpc");
    const org = await newOrganization(clients, ["ws-a"]);
    const token = await hs256({ sub: "u", organization: org });
    expect((await clients.auth.verify({ headers: bearer(token), workspaceId: "ws-b" })).code).toBe(VerifyCode.WORKSPACE_FORBIDDEN);
    await clients.organizations.suspendOrganization({ id: org });
    expect((await clients.auth.verify({ headers: bearer(token) })).code).toBe(VerifyCode.ORGANIZATION_SUSPENDED);
  });

  it("still treats sk_ keys as API keys beside tokens", async () => {
    const clients = service.clients("grpc");
    const org = await newOrganization(clients);
    const { key } = await newKey(clients, org);
    expect(await clients.auth.verify({ headers: bearer(key) })).toMatchObject({ allowed: true, principal: Principal.API_KEY });
  });
});

describe("JWKS user tokens", () => {
  let dir: string;
  let jwksServer: http.Server;
  let sign: (claims: Record<string, unknown>) => Promise<string>;
  let jwks: string;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    jwks = JSON.stringify({ keys: [jwk] });
    sign = (claims) =>
      new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: "k1" }).setExpirationTime("5m").sign(privateKey);
    dir = await mkdtemp(path.join(tmpdir(), "kw-jwks-"));
    await writeFile(path.join(dir, "jwks.json"), jwks);
    jwksServer = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(jwks);
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    jwksServer?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("verifies tokens against a JWKS file", async () => {
    const service = await startTestKeyward({ env: { KEYWARD_JWT_JWKS_FILE: path.join(dir, "jwks.json") } });
    try {
      const clients = service.clients("grpc");
      const org = randomUUID();
      const verdict = await clients.auth.verify({ headers: bearer(await sign({ sub: "alice", org_id: org })) });
      expect(verdict).toMatchObject({ allowed: true, principal: Principal.USER, userId: "alice", organizationId: org });
      const forged = await hs256({ sub: "alice", org_id: org });
      expect((await clients.auth.verify({ headers: bearer(forged) })).code).toBe(VerifyCode.INVALID_CREDENTIALS);
    } finally {
      await service.stop();
    }
  });

  it("verifies tokens against a JWKS URL, and cannot decide while it is unreachable", async () => {
    const port = (jwksServer.address() as AddressInfo).port;
    const service = await startTestKeyward({ env: { KEYWARD_JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` } });
    const unreachable = await startTestKeyward({ env: { KEYWARD_JWT_JWKS_URL: "http://127.0.0.1:1/jwks.json" } });
    try {
      const token = await sign({ sub: "bob", org_id: randomUUID() });
      expect((await service.clients("grpc").auth.verify({ headers: bearer(token) })).userId).toBe("bob");
      await expect(unreachable.clients("grpc").auth.verify({ headers: bearer(token) })).rejects.toMatchObject({
        code: Code.Unavailable,
      });
    } finally {
      await service.stop();
      await unreachable.stop();
    }
  });
});
