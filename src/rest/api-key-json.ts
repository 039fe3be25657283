/**
 * The one translation between key records and the REST JSON of
 * /v1/api-keys (Sendook's shapes, camelCase, ISO 8601 timestamps or null).
 * The plaintext `key` appears only in what create and roll answer.
 */
import type { CreateKeyInput, IssuedKey, UpdateKeyInput } from "../app/api-keys.js";
import type { ApiKeyRecord, KeyKind, Mode } from "../domain/api-key.js";
import type { CreditTerms, CreditTermsData, RefillInterval } from "../domain/credits.js";
import { creditTermsOf, MAX_CREDITS, REFILL_INTERVALS } from "../domain/credits.js";
import type { UsageBucket } from "../domain/usage.js";
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
import type { JsonObject } from "./json-shape.js";
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
  ipAllowlist: string[];
  credits: CreditTermsData | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface UsageBucketJson {
  start: string;
  allowed: number;
  denied: number;
  deniedByCode: Record<string, number>;
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
    ipAllowlist: [...record.ipAllowlist],
    credits: creditTermsOf(record.credits),
    expiresAt: iso(record.expiresAt),
    lastUsedAt: iso(record.lastUsedAt),
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

export function issuedKeyToJson(issued: IssuedKey): IssuedApiKeyJson {
  return { ...apiKeyToJson(issued.record), key: issued.plaintext };
}

export function usageBucketToJson(bucket: UsageBucket): UsageBucketJson {
  return { start: bucket.start.toISOString(), allowed: bucket.allowed, denied: bucket.denied, deniedByCode: { ...bucket.deniedByCode } };
}

const CREATE_FIELDS = ["name", "mode", "scopes", "kind", "workspaceId", "metadata", "expiresAt", "ipAllowlist", "credits"] as const;
const UPDATE_FIELDS = ["name", "scopes", "metadata", "enabled", "ipAllowlist", "credits"] as const;
const ROLL_FIELDS = ["gracePeriodSeconds"] as const;

/** `POST /v1/api-keys`: `{name, mode?, scopes?, kind?, workspaceId?, metadata?, expiresAt?, ipAllowlist?, credits?}`. */
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
  readControls(body, input);
  return input;
}

/** `ipAllowlist` and `credits`, into a create or update input. */
function readControls(body: JsonObject, input: CreateKeyInput | UpdateKeyInput): void {
  const ipAllowlist = optionalStringArray(body, "ipAllowlist");
  if (ipAllowlist !== undefined) input.ipAllowlist = ipAllowlist;
  const credits = optionalCredits(body);
  if (credits !== undefined) input.credits = credits;
}

/** `credits`: `{remaining, refill?: {interval: "daily"|"monthly", amount}}`, null (unlimited), or absent. */
function optionalCredits(body: JsonObject): CreditTerms | null | undefined {
  const value = body["credits"];
  if (value === undefined || value === null) return value;
  const credits = readObject(value, ["remaining", "refill"], "credits");
  const remaining = count(credits, "remaining", "credits.remaining", 0);
  const refillValue = credits["refill"];
  if (refillValue === undefined || refillValue === null) return { remaining, refill: null };
  const refill = readObject(refillValue, ["interval", "amount"], "credits.refill");
  const interval = refill["interval"];
  if (typeof interval !== "string" || !REFILL_INTERVALS.includes(interval as RefillInterval)) {
    throw badRequest("credits.refill.interval", 'must be "daily" or "monthly"');
  }
  return { remaining, refill: { interval: interval as RefillInterval, amount: count(refill, "amount", "credits.refill.amount", 1) } };
}

function count(body: JsonObject, field: string, path: string, min: number): number {
  const value = body[field];
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > MAX_CREDITS) {
    throw badRequest(path, `must be an integer from ${min} to ${MAX_CREDITS}`);
  }
  return value;
}

/** `PATCH /v1/api-keys/{id}`: any of `{name, scopes, metadata, enabled, ipAllowlist, credits}`, at least one. */
export function updateInputFromJson(value: unknown): UpdateKeyInput {
  if (value === undefined) throw badRequest("request body", `is required: any of ${UPDATE_FIELDS.join(", ")}`);
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
  readControls(body, input);
  if (Object.keys(input).length === 0) {
    throw badRequest("request body", `names no field to change (${UPDATE_FIELDS.join(", ")})`);
  }
  return input;
}

/** `POST /v1/api-keys/{id}/roll`: optional `{gracePeriodSeconds}` (default 0), in milliseconds. */
export function gracePeriodMsFromJson(value: unknown): number {
  if (value === undefined) return 0;
  const body = readObject(value, ROLL_FIELDS);
  return (optionalInteger(body, "gracePeriodSeconds", 0, MAX_GRACE_PERIOD_SECONDS) ?? 0) * 1000;
}
