/**
 * The audit trail's record: one management action on a key or an
 * organization, allowed or denied, with who did it and what it changed.
 * Pure: no I/O. Events are append-only.
 */
import type { ApiKeyRecord } from "./api-key.js";
import { creditTermsOf } from "./credits.js";
import type { ActorType } from "./privilege.js";

export const AUDIT_ACTIONS = [
  "api_key.create",
  "api_key.update",
  "api_key.roll",
  "api_key.revoke",
  "api_key.enable",
  "api_key.disable",
  "organization.upsert",
  "organization.suspend",
  "organization.resume",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export type AuditOutcome = "allowed" | "denied";
export type TargetType = "api_key" | "organization";

/** A JSON value: what `changes` holds (dates as ISO 8601 strings). */
export type AuditValue = null | boolean | number | string | AuditValue[] | { [field: string]: AuditValue };

export type FieldChange = {
  old: AuditValue;
  new: AuditValue;
};

/** Field name (as in the REST JSON: `scopes`, `expiresAt`, ...) -> old and new value. */
export type Changes = Record<string, FieldChange>;

export interface AuditEvent {
  /** A UUID v7. */
  id: string;
  organizationId: string;
  time: Date;
  action: AuditAction;
  outcome: AuditOutcome;
  actor: { type: ActorType; id: string };
  target: { type: TargetType; id: string };
  /** Never a secret, hash or hint. */
  changes: Changes;
  requestId: string;
  clientIp: string;
  /** Why a denied action was refused; empty when allowed. */
  reason: string;
}

export function isAuditAction(value: string): value is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(value);
}

/**
 * The fields whose value differs between `before` and `after` (null before:
 * a record being created). Compared as JSON, so arrays and maps compare by
 * content.
 */
export function fieldChanges(
  before: Readonly<Record<string, AuditValue>> | null,
  after: Readonly<Record<string, AuditValue>>,
): Changes {
  const changes: Changes = {};
  for (const [field, value] of Object.entries(after)) {
    const old = before ? (before[field] ?? null) : null;
    if (before && JSON.stringify(old) === JSON.stringify(value)) continue;
    changes[field] = { old, new: value };
  }
  return changes;
}

/** What the audit trail shows of a key (field names as in the REST JSON): never its hash, hint or secret. */
export function auditedKeyFields(record: ApiKeyRecord): Record<string, AuditValue> {
  return {
    name: record.name,
    mode: record.mode,
    kind: record.kind,
    scopes: [...record.scopes],
    workspaceId: record.workspaceId,
    metadata: { ...record.metadata },
    expiresAt: record.expiresAt ? record.expiresAt.toISOString() : null,
    rateLimit: record.rateLimit ? { limit: record.rateLimit.limit, windowMs: record.rateLimit.windowMs } : null,
    ipAllowlist: [...record.ipAllowlist],
    credits: creditTermsOf(record.credits),
    enabled: record.enabled,
    active: record.active,
  };
}

/** The fields that differ between two states of a key, as the audit trail shows them. */
export function keyChanges(before: ApiKeyRecord, after: ApiKeyRecord): Changes {
  return fieldChanges(auditedKeyFields(before), auditedKeyFields(after));
}
