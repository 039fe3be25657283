/** Caddy 2.6 (`forward_auth` + `copy_headers`) running deploy/gateways/Caddyfile in front of an echo upstream. */
import { afterAll, beforeAll } from "vitest";
import { SERVICE_TOKEN } from "../clients/programs.js";
import { startTestKeyward } from "../support/keyward.js";
import type { Clients, TestKeyward } from "../support/keyward.js";
import { gatewayMatrix } from "./matrix.js";
import { startCaddy, startEchoUpstream } from "./support.js";
import type { Upstream } from "./support.js";

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

gatewayMatrix(
  "Caddy forward_auth",
  {
    clients,
    upstream: () => upstream,
    target: () => ({ keywardPort: service.keyward.server.rpcPort, serviceToken: SERVICE_TOKEN, upstream }),
  },
  startCaddy,
  // Caddy answers a non-2xx forward_auth response as is; an unreachable authorizer is 502.
  { statusOf: (s) => s, keywardBody: true, rateLimitHeaders: true, scopeChallenge: true, rateLimitOnSuccess: false, keywardDown: 502 },
);
