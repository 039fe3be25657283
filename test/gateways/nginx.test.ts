/**
 * nginx 1.22 (`auth_request` + `auth_request_set`) running deploy/gateways/
 * nginx.conf (plain) and nginx-compat.conf in front of an echo upstream.
 */
import { afterAll, beforeAll } from "vitest";
import { SERVICE_TOKEN } from "../clients/programs.js";
import { startTestKeyward } from "../support/keyward.js";
import type { Clients, TestKeyward } from "../support/keyward.js";
import { gatewayMatrix } from "./matrix.js";
import { startEchoUpstream, startNginx } from "./support.js";
import type { GatewayTarget, Upstream } from "./support.js";

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

const setup = {
  clients,
  upstream: () => upstream,
  target: (): GatewayTarget => ({ keywardPort: service.keyward.server.rpcPort, serviceToken: SERVICE_TOKEN, upstream }),
};

gatewayMatrix(
  "nginx auth_request, plain config",
  setup,
  (target) => startNginx("nginx.conf", target),
  // auth_request passes 401 and 403 on (with WWW-Authenticate, nginx's own
  // body) and turns any other status, and an unreachable authorizer, into 500.
  { statusOf: (s) => (s === 401 || s === 403 ? s : 500), keywardBody: false, rateLimitHeaders: false, scopeChallenge: false, rateLimitOnSuccess: true, keywardDown: 500 },
);

gatewayMatrix(
  "nginx auth_request, compat config (X-Keyward-Compat: nginx)",
  setup,
  (target) => startNginx("nginx-compat.conf", target),
  { statusOf: (s) => s, keywardBody: true, rateLimitHeaders: true, scopeChallenge: true, rateLimitOnSuccess: true, keywardDown: 500 },
);
