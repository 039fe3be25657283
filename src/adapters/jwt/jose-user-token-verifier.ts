/**
 * User access tokens (JWT) checked with `jose`: an HS256 shared secret or a
 * JWKS (a local file's contents or a URL) of the platform's identity provider.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify } from "jose";
import { AppError } from "../../domain/errors.js";
import type { JWTVerifyGetKey, JWTVerifyOptions } from "jose";
import type { UserIdentity, UserTokenVerifier } from "../../ports/user-token-verifier.js";

export type UserTokenKeys =
  | { type: "secret"; secret: string }
  | { type: "jwks"; jwks: { keys: object[] } }
  | { type: "jwks_url"; url: string };

export interface JoseUserTokenOptions {
  keys: UserTokenKeys;
  /** The claim that carries the organization id. */
  organizationClaim: string;
  issuer?: string;
  audience?: string;
}

const MAX_TOKEN_LENGTH = 8192;
const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"];

export class JoseUserTokenVerifier implements UserTokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly verifyOptions: JWTVerifyOptions;

  constructor(private readonly options: JoseUserTokenOptions) {
    const keys = options.keys;
    if (keys.type === "secret") this.key = new TextEncoder().encode(keys.secret);
    else if (keys.type === "jwks") this.key = createLocalJWKSet(keys.jwks as Parameters<typeof createLocalJWKSet>[0]);
    else this.key = createRemoteJWKSet(new URL(keys.url), { timeoutDuration: 2000 });
    this.verifyOptions = {
      algorithms: keys.type === "secret" ? ["HS256"] : ASYMMETRIC,
      ...(options.issuer ? { issuer: options.issuer } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
      requiredClaims: ["sub", "exp"],
    };
  }

  async verify(token: string): Promise<UserIdentity | null> {
    if (token.length > MAX_TOKEN_LENGTH) return null;
    try {
      const { payload } =
        typeof this.key === "function"
          ? await jwtVerify(token, this.key, this.verifyOptions)
          : await jwtVerify(token, this.key, this.verifyOptions);
      const organizationId = payload[this.options.organizationClaim];
      if (typeof payload.sub !== "string" || payload.sub === "") return null;
      if (typeof organizationId !== "string" || organizationId === "") return null;
      return { userId: payload.sub, organizationId };
    } catch (error) {
      // Without the key set there is no deciding: never "invalid", never "allowed".
      if (isKeySetUnreachable(error)) {
        throw new AppError("unavailable", "the identity provider's key set is unreachable");
      }
      // Any other failure (signature, expiry, claims, shape) is an invalid token.
      return null;
    }
  }
}

function isKeySetUnreachable(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout) return true;
  if (error instanceof TypeError && error.message === "fetch failed") return true;
  return (
    error instanceof errors.JOSEError &&
    /^(Expected 200 OK|Failed to parse the JSON Web Key Set)/.test(error.message)
  );
}
