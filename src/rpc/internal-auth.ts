import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";

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
    let ok = false;
    for (const token of expected) ok = timingSafeEqual(token, presented) || ok;
    if (!match || !ok) {
      throw new ConnectError("a valid service token is required", Code.Unauthenticated);
    }
    return next(req);
  };
}
