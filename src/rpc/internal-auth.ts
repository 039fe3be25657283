import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";
import { SERVICE_TOKEN_ID } from "./request-context.js";

/** Services any caller may use: they reveal nothing (health, reflection). */
const OPEN_SERVICES = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/**
 * Requires `Authorization: Bearer <token>` with one of the service tokens.
 * Digests are compared in constant time and every token is compared, so the
 * time taken says nothing about which token was close.
 */
export function internalAuthInterceptor(tokens: readonly string[]): Interceptor {
  const expected = tokens.map(digest);
  return (next) => async (req) => {
    if (OPEN_SERVICES.has(req.service.typeName)) return next(req);
    const header = req.header.get("authorization") ?? "";
    const match = /^Bearer[ \t]+(\S+)$/i.exec(header);
    const presented = digest(match?.[1] ?? "");
    let matched = -1;
    expected.forEach((token, i) => {
      if (timingSafeEqual(token, presented)) matched = i;
    });
    if (!match || matched === -1) {
      throw new ConnectError("a valid service token is required", Code.Unauthenticated);
    }
    // The audit trail names the token by its position in configuration, never by its value.
    req.contextValues.set(SERVICE_TOKEN_ID, `token-${matched + 1}`);
    return next(req);
  };
}
