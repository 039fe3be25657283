/** A user authenticated by the platform's identity provider. */
export interface UserIdentity {
  userId: string;
  organizationId: string;
}

/** Checks user access tokens (JWT) of the platform's identity provider. */
export interface UserTokenVerifier {
  /** The identity, or null when the token is not valid (any reason). */
  verify(token: string): Promise<UserIdentity | null>;
}
