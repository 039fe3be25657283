/**
 * The service-token check every door of the internal port calls. Gateways
 * send `X-Keyward-Service-Token` (the request's `Authorization` is the
 * credential being checked); gRPC callers may send it as metadata or as
 * `Authorization: Bearer`. With no token configured nothing is required —
 * configuration allows that only on loopback in development, the same rule as
 * the RPC services.
 */
import { hash, timingSafeEqual } from "node:crypto";

export const SERVICE_TOKEN_HEADER = "X-Keyward-Service-Token";

export type TokenCheck =
  /** `token-N`: the N-th configured token; `development` when none is required. */
  | { ok: true; tokenId: string }
  | { ok: false };

/** One-shot: no Hash object (a native handle) per call. */
function digest(value: string): Buffer {
  return hash("sha256", value, "buffer");
}

export class ServiceTokens {
  private readonly expected: Buffer[];

  constructor(tokens: readonly string[]) {
    this.expected = tokens.map(digest);
  }

  get required(): boolean {
    return this.expected.length > 0;
  }

  /**
   * Compares digests in constant time against every token, so the time taken
   * says nothing about which token was close.
   */
  check(presented: string | null | undefined): TokenCheck {
    if (!this.required) return { ok: true, tokenId: "development" };
    const given = digest(presented ?? "");
    let matched = -1;
    this.expected.forEach((token, i) => {
      if (timingSafeEqual(token, given)) matched = i;
    });
    return presented && matched !== -1 ? { ok: true, tokenId: `token-${matched + 1}` } : { ok: false };
  }
}

/** The token of `Authorization: Bearer <token>`, else null. */
export function bearerToken(authorization: string | null | undefined): string | null {
  const match = /^Bearer[ \t]+(\S+)$/i.exec(authorization?.trim() ?? "");
  return match?.[1] ?? null;
}
