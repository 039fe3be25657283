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
import type { Clients } from "../support/keyward.js";
import { send } from "./support.js";
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
  upstream: () => Upstream;
}

const WWW_AUTHENTICATE_MISSING = 'Bearer realm="api"';
const WWW_AUTHENTICATE_INVALID = 'Bearer realm="api", error="invalid_token"';

export function gatewayMatrix(
  name: string,
  setup: MatrixSetup,
  start: (target: GatewayTarget) => Promise<Gateway>,
  behaviour: GatewayBehaviour,
): void {
  describe(name, () => {
    let gateway: Gateway;
    let org: string;
    let readKey: { id: string; key: string };
    let fullKey: { id: string; key: string };
    let masterKey: { id: string; key: string };
    let revokedKey: { id: string; key: string };
    let limitedKey: { id: string; key: string };

    beforeAll(async () => {
      const { clients } = setup;
      org = await newOrganization(clients);
      readKey = await newKey(clients, org, { scopes: ["read"] });
      fullKey = await newKey(clients, org);
      masterKey = await newKey(clients, org, { kind: KeyKind.MASTER });
      revokedKey = await newKey(clients, org);
      await clients.apiKeys.revokeApiKey({ organizationId: org, id: revokedKey.id });
      const limitedOrg = randomUUID();
      await clients.organizations.upsertOrganization({
        organization: create(OrganizationSchema, { id: limitedOrg, rateLimit: { limit: 1, window: durationFromMs(3_600_000) } }),
      });
      limitedKey = await newKey(clients, limitedOrg);
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

    it.each<[string, () => Record<string, string>, string, string]>([
      ["missing", () => ({}), "missing_credentials", WWW_AUTHENTICATE_MISSING],
      ["malformed", () => bearer("sk_live_short"), "malformed_credentials", WWW_AUTHENTICATE_INVALID],
      ["unknown", () => bearer(generateKey("live").plaintext), "invalid_credentials", WWW_AUTHENTICATE_INVALID],
      ["revoked", () => bearer(revokedKey.key), "key_revoked", WWW_AUTHENTICATE_INVALID],
    ])("answers a %s credential 401 with WWW-Authenticate", async (_name, headers, code, challenge) => {
      const answer = await get("/v1/messages", headers());
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

    it.each([
      ["/v1/messages/../send", 400, "invalid_path"],
      ["/v1/messages/%2e%2e/send", 400, "invalid_path"],
      ["/v1/./send", 400, "invalid_path"],
      ["/v1%2fsend", 400, "invalid_path"],
      ["/v1//send", 400, "invalid_path"],
      ["/v1/%73end", 403, "insufficient_scope"],
      ["/v1/send?to=/v1/messages", 403, "insufficient_scope"],
    ])("cannot dodge the route policy with %s", async (path, status, code) => {
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
