/** An API key's record and the rules of its lifecycle. Pure: no I/O. */
import type { KeyCredits } from "./credits.js";

export type Mode = "live" | "test";
export type KeyKind = "standard" | "master";

/** A burst of up to `limit` units, refilling at `limit` per `windowMs` (GCRA). */
export interface RateLimitPlan {
  limit: number;
  windowMs: number;
}

/** The secret a rolled key still accepts until its grace period ends. */
export interface PreviousSecret {
  hash: string;
  hint: string;
  expiresAt: Date;
}

export interface ApiKeyRecord {
  id: string;
  organizationId: string;
  name: string;
  mode: Mode;
  kind: KeyKind;
  /** Empty: unscoped, full access. */
  scopes: string[];
  /** A standard key's workspace, or null. Always null for master keys. */
  workspaceId: string | null;
  /** sha256 of the current secret (hex). */
  hash: string;
  hint: string;
  previous: PreviousSecret | null;
  /** False once revoked (never hard-deleted). */
  active: boolean;
  /** False while disabled. */
  enabled: boolean;
  metadata: Record<string, string>;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  revokedAt: Date | null;
  /** Per-key override of the organization's plan. */
  rateLimit: RateLimitPlan | null;
  /** Normalized addresses and CIDRs the key may be used from; empty: any. */
  ipAllowlist: string[];
  /** Remaining uses; null: unlimited. */
  credits: KeyCredits | null;
}

/** Which of a key's secrets a presented plaintext matched. */
export type SecretMatch = "current" | "previous";

export type KeyState = "usable" | "revoked" | "expired" | "disabled";

/**
 * The state of a key as seen through the secret that was presented. A rolled
 * key's old secret is revoked once its grace period has ended, whatever the
 * state of the key itself.
 */
export function keyState(record: ApiKeyRecord, matched: SecretMatch, now: Date): KeyState {
  if (!record.active) return "revoked";
  if (matched === "previous" && (!record.previous || record.previous.expiresAt <= now)) {
    return "revoked";
  }
  if (record.expiresAt && record.expiresAt <= now) return "expired";
  if (!record.enabled) return "disabled";
  return "usable";
}

/** A key with no scopes has full access (the legacy rule). */
export function grantsScope(record: Pick<ApiKeyRecord, "scopes">, scope: string): boolean {
  return record.scopes.length === 0 || record.scopes.includes(scope);
}
