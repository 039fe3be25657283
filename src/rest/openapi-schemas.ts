/**
 * The schemas of the OpenAPI document (components.schemas): request and
 * response bodies of the HTTP port. Bounds come from the modules that
 * enforce them.
 */
import { AUDIT_ACTIONS } from "../domain/audit-event.js";
import { MAX_CREDITS, REFILL_INTERVALS } from "../domain/credits.js";
import { MAX_IP_ALLOWLIST_ENTRIES } from "../domain/ip-allowlist.js";
import { MAX_USAGE_RANGE_MS } from "../domain/usage.js";
import { METADATA_KEY_PATTERN, METADATA_LIMITS } from "../domain/validation.js";

const isoDateTime = (description: string) => ({ type: ["string", "null"], format: "date-time", description });

const METADATA_SCHEMA = {
  type: "object",
  description:
    `Your own strings about the key: at most ${METADATA_LIMITS.maxEntries} entries, keys 1-${METADATA_LIMITS.maxKeyLength} characters ` +
    `of A-Z a-z 0-9 _ - (starting with a letter or digit), values at most ${METADATA_LIMITS.maxValueLength} characters.`,
  maxProperties: METADATA_LIMITS.maxEntries,
  propertyNames: { pattern: METADATA_KEY_PATTERN.source },
  additionalProperties: { type: "string", maxLength: METADATA_LIMITS.maxValueLength },
};

const IP_ALLOWLIST_SCHEMA = {
  type: "array",
  maxItems: MAX_IP_ALLOWLIST_ENTRIES,
  items: { type: "string" },
  description:
    `IPv4/IPv6 addresses and CIDRs the key may be used from (at most ${MAX_IP_ALLOWLIST_ENTRIES}); empty: any address. ` +
    "Stored normalized (`10.1.2.3/8` → `10.0.0.0/8`, `::ffff:203.0.113.7` → `203.0.113.7`); an invalid entry is a 400 naming it.",
};

const CREDITS_SCHEMA = {
  type: ["object", "null"],
  additionalProperties: false,
  required: ["remaining"],
  description:
    "Remaining uses: every allowed request spends its cost; none left is 429 `usage_exceeded`. A refill sets them back to " +
    "`amount` at every UTC day (`daily`) or month (`monthly`) boundary. null: unlimited.",
  properties: {
    remaining: { type: "integer", minimum: 0, maximum: MAX_CREDITS },
    refill: {
      type: ["object", "null"],
      additionalProperties: false,
      required: ["interval", "amount"],
      properties: {
        interval: { type: "string", enum: REFILL_INTERVALS },
        amount: { type: "integer", minimum: 1, maximum: MAX_CREDITS },
      },
    },
  },
};

const USAGE_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["buckets"],
  properties: {
    buckets: {
      type: "array",
      description: "Every bucket of the range, oldest first, empty ones included.",
      maxItems: MAX_USAGE_RANGE_MS / 3_600_000,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["start", "allowed", "denied", "deniedByCode"],
        properties: {
          start: { type: "string", format: "date-time", description: "The bucket's first instant (a UTC hour or day)." },
          allowed: { type: "integer", minimum: 0 },
          denied: { type: "integer", minimum: 0 },
          deniedByCode: {
            type: "object",
            description: "Denials by verdict code (`RATE_LIMITED`, `KEY_REVOKED`, `IP_NOT_ALLOWED`, `USAGE_EXCEEDED`, …); sums to `denied`.",
            additionalProperties: { type: "integer", minimum: 1 },
          },
        },
      },
    },
  },
};

const API_KEY_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: [
    "id", "name", "organizationId", "active", "enabled", "mode", "kind", "scopes",
    "workspaceId", "hint", "metadata", "ipAllowlist", "credits", "expiresAt", "lastUsedAt", "createdAt", "updatedAt",
  ],
  properties: {
    id: { type: "string", description: "Unique identifier of the key." },
    name: { type: "string", description: "The descriptive name." },
    organizationId: { type: "string", description: "The organization the key belongs to." },
    active: { type: "boolean", description: "False once revoked (deleted)." },
    enabled: { type: "boolean", description: "False while disabled (reversible, PATCH)." },
    mode: { type: "string", enum: ["live", "test"] },
    kind: { type: "string", enum: ["standard", "master"], description: "A master key is valid for every workspace." },
    scopes: { type: "array", items: { type: "string" }, description: "Empty: unscoped, full access." },
    workspaceId: { type: ["string", "null"], description: "A standard key's workspace, if bound to one." },
    hint: { type: "string", description: "Prefix, first 4 and last 4 characters of the secret." },
    metadata: METADATA_SCHEMA,
    ipAllowlist: IP_ALLOWLIST_SCHEMA,
    credits: CREDITS_SCHEMA,
    expiresAt: isoDateTime("When the key stops working, if ever."),
    lastUsedAt: isoDateTime("Last successful use (written in batches, a few seconds late)."),
    createdAt: { type: "string", format: "date-time" },
    updatedAt: { type: "string", format: "date-time" },
  },
};

/** What create and roll answer: the key object and, once, its secret. */
const ISSUED_API_KEY_SCHEMA = {
  ...API_KEY_SCHEMA,
  required: [...API_KEY_SCHEMA.required, "key"],
  properties: {
    ...API_KEY_SCHEMA.properties,
    key: { type: "string", pattern: "^sk_(live|test)_[0-9A-Za-z]{49}$", description: "The secret; shown this once." },
  },
};

const party = (types: readonly string[], description: string) => ({
  type: "object",
  additionalProperties: false,
  required: ["type", "id"],
  description,
  properties: { type: { type: "string", enum: types }, id: { type: "string" } },
});

const AUDIT_EVENT_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["id", "organizationId", "time", "action", "outcome", "actor", "target", "changes", "requestId", "clientIp", "reason"],
  properties: {
    id: { type: "string", description: "A UUID v7." },
    organizationId: { type: "string" },
    time: { type: "string", format: "date-time" },
    action: { type: "string", enum: AUDIT_ACTIONS },
    outcome: { type: "string", enum: ["allowed", "denied"] },
    actor: party(["api_key", "user", "service"], "Who acted: a key id, a user id (the token's subject) or a service token (`token-N`)."),
    target: party(["api_key", "organization"], "What was acted on."),
    changes: {
      type: "object",
      description: "Field name → `{old, new}` (for create, `old` is null). Never a secret, hash or hint.",
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        required: ["old", "new"],
        properties: { old: {}, new: {} },
      },
    },
    requestId: { type: "string", description: "The request's X-Request-Id." },
    clientIp: { type: "string", description: "The client's address as keyward saw it." },
    reason: { type: "string", description: "Why a denied action was refused; empty when allowed." },
  },
};

export const OPENAPI_SCHEMAS = {
  ApiKey: API_KEY_SCHEMA,
  IssuedApiKey: ISSUED_API_KEY_SCHEMA,
  AuditEvent: AUDIT_EVENT_SCHEMA,
  ApiKeyUsage: USAGE_SCHEMA,
  CreateApiKeyRequest: {
    type: "object",
    additionalProperties: false,
    required: ["name"],
    properties: {
      name: { type: "string", minLength: 1, maxLength: 200, description: "Not empty, not only whitespace (trimmed)." },
      mode: { type: "string", enum: ["live", "test"], default: "live" },
      kind: { type: "string", enum: ["standard", "master"], default: "standard" },
      scopes: { type: "array", maxItems: 50, items: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._:/*-]{0,99}$" } },
      workspaceId: { type: ["string", "null"], description: "Binds a standard key to one workspace; not for master keys." },
      metadata: METADATA_SCHEMA,
      expiresAt: { type: ["string", "null"], format: "date-time", description: "ISO 8601 with a time zone, in the future." },
      ipAllowlist: IP_ALLOWLIST_SCHEMA,
      credits: CREDITS_SCHEMA,
    },
  },
  UpdateApiKeyRequest: {
    type: "object",
    additionalProperties: false,
    minProperties: 1,
    properties: {
      name: { type: "string", minLength: 1, maxLength: 200 },
      scopes: { type: "array", maxItems: 50, items: { type: "string" } },
      metadata: { ...METADATA_SCHEMA, description: `Replaces the key's metadata. ${METADATA_SCHEMA.description}` },
      enabled: { type: "boolean" },
      ipAllowlist: { ...IP_ALLOWLIST_SCHEMA, description: `Replaces the allowlist. ${IP_ALLOWLIST_SCHEMA.description}` },
      credits: { ...CREDITS_SCHEMA, description: `Replaces the credits (remaining and refill). ${CREDITS_SCHEMA.description}` },
    },
  },
  RollApiKeyRequest: {
    type: "object",
    additionalProperties: false,
    properties: {
      gracePeriodSeconds: { type: "integer", minimum: 0, maximum: 2_592_000, default: 0 },
    },
  },
  Problem: {
    type: "object",
    required: ["type", "title", "status", "detail", "code"],
    properties: {
      type: { type: "string" },
      title: { type: "string" },
      status: { type: "integer" },
      detail: { type: "string" },
      code: { type: "string", description: "Machine-readable: invalid_argument, insufficient_scope, insufficient_privilege, not_found, …" },
    },
  },
  Health: { type: "object", required: ["status"], properties: { status: { const: "ok" } } },
  Readiness: {
    type: "object",
    required: ["status", "checks"],
    properties: {
      status: { type: "string", enum: ["ready", "unavailable"] },
      checks: { type: "object", additionalProperties: { type: "boolean" } },
    },
  },
};
