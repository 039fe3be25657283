/** Caddy 2.6 (`forward_auth` + `copy_headers`) running deploy/gateways/Caddyfile in front of an echo upstream. */
import { gatewayBench, gatewayMatrix } from "./matrix.js";
import { startCaddy } from "./support.js";

gatewayMatrix(
  "Caddy forward_auth",
  gatewayBench(),
  startCaddy,
  // Caddy answers a non-2xx forward_auth response as is; an unreachable authorizer is 502.
  { statusOf: (s) => s, keywardBody: true, rateLimitHeaders: true, scopeChallenge: true, rateLimitOnSuccess: false, keywardDown: 502 },
);
