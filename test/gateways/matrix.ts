/**
 * The same matrix for every gateway: credentials allowed with the identity
 * at the upstream, client-sent identity never passed on, denials as keyward
 * answered them (or as the gateway documents it turns them), scope by the
 * original method and path, dot segments and encodings that cannot dodge the
 * route policy, and keyward down never "allowed".
 */
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyKind } from "../../gen/authn/v1/common_pb.js";
import { OrganizationSchema } from "../../gen/authn/v1/organization_pb.js";
import { generateKey } from "../../src/domain/key-format.js";
import { freePort } from "../setup/servers.js";
import { newKey, newOrganization } from "../support/fixtures.js";
import { SERVICE_TOKEN } from "../clients/programs.js";
import { startTestKeyward } from "../support/keyward.js";
import type { Clients, TestKeyward } from "../support/keyward.js";
import { send, startEchoUpstream } from "./support.js";
import type { Answer, Echo, Gateway, GatewayTarget, Upstream } from "./support.js";

export interface GatewayBehaviour {
  /** The status the client sees for keyward's denial `status`. */
  statusOf(status: number): number;
  /** Whether the client gets keyward's problem+json body for a denial it passes on. */
  keywardBody: boolean;
  /** Whether Retry-After and RateLimit-* of a 429 reach the client. */
  rateLimitHeaders: boolean;
  /** Whether a 403's WWW-Authenticate (insufficient_scope) reaches the client. */
  scopeChallenge: boolean;
  /** Whether an allowed request's RateLimit-* reach the client (else the upstream only). */
  rateLimitOnSuccess: boolean;
  /** The gateway's documented answer when keyward cannot be reached. */
  keywardDown: number;
}

export interface MatrixSetup {
  clients: Clients;
  target: () => GatewayTarget;
}

/** The real service (FerretDB, a service token) and an echo upstream, for every gateway of a test file. */
export function gatewayBench(): MatrixSetup {
  let service: TestKeyward;
  let upstream: Upstream;
  const clients = {} as Clients;
  beforeAll(async () => {
    service = await startTestKeyward({ env: { KEYWARD_INTERNAL_TOKENS: SERVICE_TOKEN } });
    Object.assign(clients, service.clients("grpc", SERVICE_TOKEN));
    upstream = await startEchoUpstream();
  });
  afterAll(async () => {
    await upstream?.close();
    await service?.stop();
  });
  return {
    clients,
    target: () => ({ keywardPort: service.keyward.server.rpcPort, serviceToken: SERVICE_TOKEN, upstream }),
  };
}

export interface MatrixKeys {
  organizationId: string;
  /** Scope `read` only. */
  read: { id: string; key: string };
  /** Unscoped. */
  full: { id: string; key: string };
  master: { id: string; key: string };
  revoked: { id: string; key: string };
  /** Of an organization whose pool holds one request an hour. */
  limited: { id: string; key: string };
}

/** The keys every gateway's matrix uses, in a new organization (workspaces ws-1, ws-2). */
export async function matrixKeys(clients: Clients): Promise<MatrixKeys> {
  const organizationId = await newOrganization(clients);
  const revoked = await newKey(clients, organizationId);
  await clients.apiKeys.revokeApiKey({ organizationId, id: revoked.id });
  const limitedOrg = randomUUID();
  await clients.organizations.upsertOrganization({
    organization: create(OrganizationSchema, { id: limitedOrg, rateLimit: { limit: 1, window: durationFromMs(3_600_000) } }),
  });
  return {
    organizationId,
    read: await newKey(clients, organizationId, { scopes: ["read"] }),
    full: await newKey(clients, organizationId),
    master: await newKey(clients, organizationId, { kind: KeyKind.MASTER }),
    revoked,
    limited: await newKey(clients, limitedOrg),
  };
}

/** Credentials keyward answers 401, by name: the problem code and WWW-Authenticate. */
export const UNAUTHENTICATED_CASES: readonly [name: string, code: string, challenge: string][] = [
  ["missing", "missing_credentials", 'Bearer realm="api"'],
  ["malformed", "malformed_credentials", 'Bearer realm="api", error="invalid_token"'],
  ["unknown", "invalid_credentials", 'Bearer realm="api", error="invalid_token"'],
  ["revoked", "key_revoked", 'Bearer realm="api", error="invalid_token"'],
];

/** The Authorization header of each of UNAUTHENTICATED_CASES (none when missing). */
export function unauthenticatedHeaders(name: string, keys: MatrixKeys): Record<string, string> {
  const bearer = { malformed: "sk_live_short", unknown: generateKey("live").plaintext, revoked: keys.revoked.key }[name];
  return bearer ? { authorization: `Bearer ${bearer}` } : {};
}

/** Paths that must not dodge the route policy, POSTed with the read-only key, and keyward's answer. */
export const PATH_TRICKS: readonly [path: string, status: number, code: string][] = [
  ["/v1/messages/../send", 400, "invalid_path"],
  ["/v1/messages/%2e%2e/send", 400, "invalid_path"],
  ["/v1/./send", 400, "invalid_path"],
  ["/v1%2fsend", 400, "invalid_path"],
  ["/v1//send", 400, "invalid_path"],
  ["/v1/%73end", 403, "insufficient_scope"],
  ["/v1/send?to=/v1/messages", 403, "insufficient_scope"],
];

export function gatewayMatrix(
  name: string,
  setup: MatrixSetup,
  start: (target: GatewayTarget) => Promise<Gateway>,
  behaviour: GatewayBehaviour,
): void {
  describe(name, () => {
    let gateway: Gateway;
    let keys: MatrixKeys;
    let org: string;
    let readKey: MatrixKeys["read"];
    let fullKey: MatrixKeys["full"];
    let masterKey: MatrixKeys["master"];
    let limitedKey: MatrixKeys["limited"];

    beforeAll(async () => {
      keys = await matrixKeys(setup.clients);
      ({ organizationId: org, read: readKey, full: fullKey, master: masterKey, limited: limitedKey } = keys);
      gateway = await start(setup.target());
    });
    afterAll(async () => {
      await gateway?.stop();
    });

    const get = (path: string, headers: Record<string, string> = {}) => send(gateway.url, "GET", path, headers);
    const post = (path: string, headers: Record<string, string> = {}) => send(gateway.url, "POST", path, headers);
    const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

    function upstreamSaw(answer: Answer): Echo {
      expect(answer.status, answer.body).toBe(200);
      expect(answer.headers["x-upstream"]).toBe("echo");
      return JSON.parse(answer.body) as Echo;
    }
    const identity = (echo: Echo) =>
      Object.fromEntries(echo.headers.filter(([n]) => n.startsWith("x-keyward-")));

    function expectDenied(answer: Answer, status: number, code: string): void {
      expect(answer.headers["x-upstream"]).toBeUndefined();
      expect(answer.status, answer.body).toBe(behaviour.statusOf(status));
      if (behaviour.statusOf(status) !== status) return;
      if (behaviour.keywardBody) {
        expect(answer.headers["content-type"]).toBe("application/problem+json");
        expect(JSON.parse(answer.body)).toMatchObject({ status, code });
      } else {
        expect(answer.body).not.toContain(`"code":"${code}"`);
      }
    }

    it("allows a Bearer key: the upstream gets the identity", async () => {
      const answer = await get("/v1/messages?limit=1", bearer(readKey.key));
      const echo = upstreamSaw(answer);
      const limit = behaviour.rateLimitOnSuccess ? answer.headers["ratelimit-limit"] : echo.headers.find(([n]) => n === "ratelimit-limit")?.[1];
      expect(limit).toBe("100000");
      expect(echo.url).toBe("/v1/messages?limit=1");
      expect(identity(echo)).toEqual({
        "x-keyward-organization-id": org,
        "x-keyward-key-id": readKey.id,
        "x-keyward-mode": "live",
        "x-keyward-scopes": "read",
        "x-keyward-workspace-id": "-",
        "x-keyward-principal": "api_key",
        "x-keyward-user-id": "-",
      });
    });

    it("allows the Sent style (x-api-key + x-sender-id)", async () => {
      const echo = upstreamSaw(await post("/v1/send", { "x-api-key": fullKey.key, "x-sender-id": org }));
      expect(identity(echo)).toMatchObject({ "x-keyward-key-id": fullKey.id, "x-keyward-scopes": "*" });
    });

    it("allows a master key naming a workspace", async () => {
      const echo = upstreamSaw(await get("/v1/context", { ...bearer(masterKey.key), "x-workspace-id": "ws-2" }));
      expect(identity(echo)).toMatchObject({ "x-keyward-key-id": masterKey.id, "x-keyward-workspace-id": "ws-2" });
    });

    it("never passes on a client-sent identity header", async () => {
      const forged = { "x-keyward-organization-id": randomUUID(), "x-keyward-scopes": "*", "x-keyward-user-id": "admin" };
      const echo = upstreamSaw(await get("/v1/messages", { ...bearer(readKey.key), ...forged }));
      const seen = (header: string) => echo.headers.filter(([n]) => n === header).map(([, v]) => v);
      expect(seen("x-keyward-organization-id")).toEqual([org]);
      expect(seen("x-keyward-scopes")).toEqual(["read"]);
      expect(seen("x-keyward-user-id")).toEqual(["-"]);
    });

    it.each(UNAUTHENTICATED_CASES)("answers a %s credential 401 with WWW-Authenticate", async (name, code, challenge) => {
      const answer = await get("/v1/messages", unauthenticatedHeaders(name, keys));
      expectDenied(answer, 401, code);
      expect(answer.headers["www-authenticate"]).toBe(challenge);
    });

    it("checks the scope of the original method and path", async () => {
      upstreamSaw(await get("/v1/messages/m-1", bearer(readKey.key)));
      const answer = await post("/v1/send", bearer(readKey.key));
      expectDenied(answer, 403, "insufficient_scope");
      if (behaviour.scopeChallenge) expect(answer.headers["www-authenticate"]).toContain('error="insufficient_scope"');
    });

    it("does not believe a client-sent original method or URI", async () => {
      const spoof = {
        "x-forwarded-method": "GET",
        "x-forwarded-uri": "/v1/messages",
        "x-original-method": "GET",
        "x-original-uri": "/v1/messages",
      };
      expectDenied(await post("/v1/send", { ...bearer(readKey.key), ...spoof }), 403, "insufficient_scope");
    });

    it.each(PATH_TRICKS)("cannot dodge the route policy with %s", async (path, status, code) => {
      expectDenied(await post(path, bearer(readKey.key)), status, code);
    });

    it("answers an exhausted pool 429 with Retry-After", async () => {
      upstreamSaw(await get("/v1/messages", bearer(limitedKey.key)));
      const answer = await get("/v1/messages", bearer(limitedKey.key));
      expectDenied(answer, 429, "rate_limited");
      if (behaviour.rateLimitHeaders) {
        expect(Number(answer.headers["retry-after"])).toBeGreaterThan(0);
        expect(answer.headers["ratelimit-remaining"]).toBe("0");
      }
    });

    it(`answers ${behaviour.keywardDown} when keyward is down, never allowed`, async () => {
      const down = await start({ ...setup.target(), keywardPort: await freePort() });
      try {
        const answer = await send(down.url, "GET", "/v1/messages", bearer(fullKey.key));
        expect(answer.status).toBe(behaviour.keywardDown);
        expect(answer.headers["x-upstream"]).toBeUndefined();
      } finally {
        await down.stop();
      }
    });
  });
}
