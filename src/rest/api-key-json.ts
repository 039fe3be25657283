/**
 * The one translation between key records and the REST JSON of
 * /v1/api-keys (Sendook's shapes, camelCase, ISO 8601 timestamps or null).
 * The plaintext `key` appears only in what create and roll answer.
 */
import type { CreateKeyInput, IssuedKey, UpdateKeyInput } from "../app/api-keys.js";
import type { ApiKeyRecord, KeyKind, Mode } from "../domain/api-key.js";
import {
  optionalBoolean,
  optionalDateTime,
  optionalEnum,
  optionalInteger,
  optionalNullableString,
  optionalString,
  optionalStringArray,
  optionalStringMap,
  readObject,
} from "./json-shape.js";
import { badRequest } from "./problem.js";

export interface ApiKeyJson {
  id: string;
  name: string;
  organizationId: string;
  active: boolean;
  enabled: boolean;
  mode: Mode;
  kind: KeyKind;
  scopes: string[];
  workspaceId: string | null;
  hint: string;
  metadata: Record<string, string>;
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface IssuedApiKeyJson extends ApiKeyJson {
  /** The plaintext secret: answered once, never stored. */
  key: string;
}

export const MODES: readonly Mode[] = ["live", "test"];
export const KINDS: readonly KeyKind[] = ["standard", "master"];
/** The longest grace period a roll accepts: 30 days. */
export const MAX_GRACE_PERIOD_SECONDS = 30 * 24 * 3600;

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

export function apiKeyToJson(record: ApiKeyRecord): ApiKeyJson {
  return {
    id: record.id,
    name: record.name,
    organizationId: record.organizationId,
    active: record.active,
    enabled: record.enabled,
    mode: record.mode,
    kind: record.kind,
    scopes: [...record.scopes],
    workspaceId: record.workspaceId,
    hint: record.hint,
    metadata: { ...record.metadata },
    expiresAt: iso(record.expiresAt),
    lastUsedAt: iso(record.lastUsedAt),
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

export function issuedKeyToJson(issued: IssuedKey): IssuedApiKeyJson {
  return { ...apiKeyToJson(issued.record), key: issued.plaintext };
}

const CREATE_FIELDS = ["name", "mode", "scopes", "kind", "workspaceId", "metadata", "expiresAt"] as const;
const UPDATE_FIELDS = ["name", "scopes", "metadata", "enabled"] as const;
const ROLL_FIELDS = ["gracePeriodSeconds"] as const;

/** `POST /v1/api-keys`: `{name, mode?, scopes?, kind?, workspaceId?, metadata?, expiresAt?}`. */
export function createInputFromJson(organizationId: string, value: unknown): CreateKeyInput {
  if (value === undefined) throw badRequest("request body", "is required: {\"name\": \"...\"}");
  const body = readObject(value, CREATE_FIELDS);
  const name = optionalString(body, "name");
  if (name === undefined) throw badRequest("name", "is required");
  const input: CreateKeyInput = { organizationId, name };
  const mode = optionalEnum(body, "mode", MODES);
  if (mode !== undefined) input.mode = mode;
  const kind = optionalEnum(body, "kind", KINDS);
  if (kind !== undefined) input.kind = kind;
  const scopes = optionalStringArray(body, "scopes");
  if (scopes !== undefined) input.scopes = scopes;
  const workspaceId = optionalNullableString(body, "workspaceId");
  if (workspaceId !== undefined) input.workspaceId = workspaceId;
  const metadata = optionalStringMap(body, "metadata");
  if (metadata !== undefined) input.metadata = metadata;
  const expiresAt = optionalDateTime(body, "expiresAt");
  if (expiresAt !== undefined) input.expiresAt = expiresAt;
  return input;
}

/** `PATCH /v1/api-keys/{id}`: any of `{name, scopes, metadata, enabled}`, at least one. */
export function updateInputFromJson(value: unknown): UpdateKeyInput {
  if (value === undefined) throw badRequest("request body", "is required: any of name, scopes, metadata, enabled");
  const body = readObject(value, UPDATE_FIELDS);
  const input: UpdateKeyInput = {};
  const name = optionalString(body, "name");
  if (name !== undefined) input.name = name;
  const scopes = optionalStringArray(body, "scopes");
  if (scopes !== undefined) input.scopes = scopes;
  const metadata = optionalStringMap(body, "metadata");
  if (metadata !== undefined) input.metadata = metadata;
  const enabled = optionalBoolean(body, "enabled");
  if (enabled !== undefined) input.enabled = enabled;
  if (Object.keys(input).length === 0) {
    throw badRequest("request body", "names no field to change (name, scopes, metadata, enabled)");
  }
  return input;
}

/** `POST /v1/api-keys/{id}/roll`: optional `{gracePeriodSeconds}` (default 0), in milliseconds. */
export function gracePeriodMsFromJson(value: unknown): number {
  if (value === undefined) return 0;
  const body = readObject(value, ROLL_FIELDS);
  return (optionalInteger(body, "gracePeriodSeconds", 0, MAX_GRACE_PERIOD_SECONDS) ?? 0) * 1000;
}
