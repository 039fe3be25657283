import { Code, ConnectError } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";
import { bearerToken } from "../edge/service-token.js";
import type { ServiceTokens } from "../edge/service-token.js";
import { SERVICE_TOKEN_REQUIRED } from "./early-refusal.js";
import { SERVICE_TOKEN_ID } from "./request-context.js";

/** Services any caller may use: they reveal nothing (health, reflection). */
const OPEN_SERVICES = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

/**
 * Requires `Authorization: Bearer <token>` with one of the service tokens
 * (compared in constant time, src/edge/service-token.ts), and names the
 * token in the call's context for the audit trail — by its position in
 * configuration, never by its value.
 */
export function internalAuthInterceptor(tokens: ServiceTokens): Interceptor {
  return (next) => async (req) => {
    if (OPEN_SERVICES.has(req.service.typeName)) return next(req);
    const check = tokens.check(bearerToken(req.header.get("authorization")));
    if (!check.ok) throw new ConnectError(SERVICE_TOKEN_REQUIRED, Code.Unauthenticated);
    req.contextValues.set(SERVICE_TOKEN_ID, check.tokenId);
    return next(req);
  };
}
