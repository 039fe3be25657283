/** The one mapper between ApiKeyRecord and its MongoDB document (snake_case). */
import type { ApiKeyRecord, KeyKind, Mode } from "../../domain/api-key.js";
import type { Filter } from "mongodb";
import type { KeyCredits, Refill, RefillInterval } from "../../domain/credits.js";
import type { KeyChanges } from "../../ports/key-store.js";

export interface KeyDocument {
  _id: string;
  organization_id: string;
  name: string;
  mode: Mode;
  kind: KeyKind;
  scopes: string[];
  workspace_id: string | null;
  hash: string;
  hint: string;
  /** The rolled secret still accepted during its grace period. */
  previous_hash: string | null;
  previous_hint: string | null;
  previous_expires_at: Date | null;
  active: boolean;
  enabled: boolean;
  metadata: Record<string, string>;
  expires_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
  updated_at: Date;
  revoked_at: Date | null;
  rate_limit: { limit: number; window_ms: number } | null;
  /** Absent on keys written before allowlists: any address. */
  ip_allowlist?: string[];
  /** Absent or null: unlimited. */
  credits?: CreditsDocument | null;
}

export interface CreditsDocument {
  remaining: number;
  refill: { interval: RefillInterval; amount: number } | null;
  /** The start of the refill period `remaining` belongs to. */
  refilled_at: Date | null;
}

export function toCreditsDocument(credits: KeyCredits | null): CreditsDocument | null {
  return credits
    ? {
        remaining: credits.remaining,
        refill: credits.refill ? { interval: credits.refill.interval, amount: credits.refill.amount } : null,
        refilled_at: credits.refilledAt,
      }
    : null;
}

export function fromCreditsDocument(doc: CreditsDocument | null | undefined): KeyCredits | null {
  return doc
    ? {
        remaining: doc.remaining,
        refill: doc.refill ? { interval: doc.refill.interval, amount: doc.refill.amount } : null,
        refilledAt: doc.refilled_at ?? null,
      }
    : null;
}

export function toKeyDocument(record: ApiKeyRecord): KeyDocument {
  return {
    _id: record.id,
    organization_id: record.organizationId,
    name: record.name,
    mode: record.mode,
    kind: record.kind,
    scopes: record.scopes,
    workspace_id: record.workspaceId,
    hash: record.hash,
    hint: record.hint,
    previous_hash: record.previous?.hash ?? null,
    previous_hint: record.previous?.hint ?? null,
    previous_expires_at: record.previous?.expiresAt ?? null,
    active: record.active,
    enabled: record.enabled,
    metadata: record.metadata,
    expires_at: record.expiresAt,
    last_used_at: record.lastUsedAt,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    revoked_at: record.revokedAt,
    rate_limit: record.rateLimit
      ? { limit: record.rateLimit.limit, window_ms: record.rateLimit.windowMs }
      : null,
    ip_allowlist: record.ipAllowlist,
    credits: toCreditsDocument(record.credits),
  };
}

/** The document fields for a set of changes: only the keys present are written. */
export function toKeyFields(changes: KeyChanges): Partial<KeyDocument> {
  const fields: Partial<KeyDocument> = {};
  if (changes.name !== undefined) fields.name = changes.name;
  if (changes.scopes !== undefined) fields.scopes = changes.scopes;
  if (changes.metadata !== undefined) fields.metadata = changes.metadata;
  if (changes.enabled !== undefined) fields.enabled = changes.enabled;
  if (changes.active !== undefined) fields.active = changes.active;
  if (changes.revokedAt !== undefined) fields.revoked_at = changes.revokedAt;
  if (changes.hash !== undefined) fields.hash = changes.hash;
  if (changes.hint !== undefined) fields.hint = changes.hint;
  if (changes.updatedAt !== undefined) fields.updated_at = changes.updatedAt;
  if (changes.ipAllowlist !== undefined) fields.ip_allowlist = changes.ipAllowlist;
  if (changes.credits !== undefined) fields.credits = toCreditsDocument(changes.credits);
  if (changes.previous !== undefined) {
    fields.previous_hash = changes.previous?.hash ?? null;
    fields.previous_hint = changes.previous?.hint ?? null;
    fields.previous_expires_at = changes.previous?.expiresAt ?? null;
  }
  return fields;
}

export function fromKeyDocument(doc: KeyDocument): ApiKeyRecord {
  return {
    id: doc._id,
    organizationId: doc.organization_id,
    name: doc.name,
    mode: doc.mode,
    kind: doc.kind,
    scopes: doc.scopes,
    workspaceId: doc.workspace_id,
    hash: doc.hash,
    hint: doc.hint,
    previous:
      doc.previous_hash && doc.previous_hint && doc.previous_expires_at
        ? { hash: doc.previous_hash, hint: doc.previous_hint, expiresAt: doc.previous_expires_at }
        : null,
    active: doc.active,
    enabled: doc.enabled,
    metadata: doc.metadata ?? {},
    expiresAt: doc.expires_at,
    lastUsedAt: doc.last_used_at,
    createdAt: doc.created_at,
    updatedAt: doc.updated_at,
    revokedAt: doc.revoked_at,
    rateLimit: doc.rate_limit
      ? { limit: doc.rate_limit.limit, windowMs: doc.rate_limit.window_ms }
      : null,
    ipAllowlist: doc.ip_allowlist ?? [],
    credits: fromCreditsDocument(doc.credits),
  };
}

/** Matches a key whose credits are limited with exactly this refill (or unlimited: null). */
export function creditTermsFilter(terms: { refill: Refill | null } | null): Filter<KeyDocument> {
  if (terms === null) return { credits: null };
  if (terms.refill === null) return { credits: { $ne: null }, "credits.refill": null };
  return { "credits.refill.interval": terms.refill.interval, "credits.refill.amount": terms.refill.amount };
}
