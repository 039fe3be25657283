/**
 * nginx 1.22 (`auth_request` + `auth_request_set`) running deploy/gateways/
 * nginx.conf (plain) and nginx-compat.conf in front of an echo upstream.
 */
import { gatewayBench, gatewayMatrix } from "./matrix.js";
import { startNginx } from "./support.js";

const bench = gatewayBench();

gatewayMatrix(
  "nginx auth_request, plain config",
  bench,
  (target) => startNginx("nginx.conf", target),
  // auth_request passes 401 and 403 on (a 401's WWW-Authenticate, nginx's own
  // body) and turns any other status, and an unreachable authorizer, into 500.
  {
    statusOf: (s) => (s === 401 || s === 403 ? s : 500),
    keywardBody: false,
    rateLimitHeaders: false,
    scopeChallenge: false,
    rateLimitOnSuccess: true,
    keywardDown: 500,
  },
);

gatewayMatrix(
  "nginx auth_request, compat config (X-Keyward-Compat: nginx)",
  bench,
  (target) => startNginx("nginx-compat.conf", target),
  { statusOf: (s) => s, keywardBody: true, rateLimitHeaders: true, scopeChallenge: true, rateLimitOnSuccess: true, keywardDown: 500 },
);
