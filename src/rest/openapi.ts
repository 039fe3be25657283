/**
 * The OpenAPI 3.1 document of the HTTP port, served at /v1/openapi.json.
 * Written by hand (its body schemas in openapi-schemas.ts);
 * test/rest/openapi.test.ts checks every route, method and status in it
 * against the running server, and every route the server serves against it.
 */
import { AUDIT_ACTIONS } from "../domain/audit-event.js";
import { API_KEYS_READ_SCOPE, API_KEYS_WRITE_SCOPE, AUDIT_READ_SCOPE } from "../domain/privilege.js";
import { PREFLIGHT_MAX_AGE_SECONDS } from "./cors.js";
import { OPENAPI_SCHEMAS } from "./openapi-schemas.js";
import { MAX_BODY_BYTES } from "./request-body.js";

/** Every /v1 answer carries its request id. */
const requestId = {
  "X-Request-Id": {
    description: "The request's id: the client's X-Request-Id when sane (1-128 visible ASCII characters), else a new one. Audit events record it.",
    required: true,
    schema: { type: "string" },
  },
};

const problem = (description: string, headers: Record<string, unknown> = {}) => ({
  description,
  headers: { ...requestId, ...headers },
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });

const rateLimitHeaders = {
  "RateLimit-Limit": { description: "Units per window of the organization's pool.", schema: { type: "integer" } },
  "RateLimit-Remaining": { description: "Units left in the current window.", schema: { type: "integer" } },
  "RateLimit-Reset": { description: "Seconds until the window resets.", schema: { type: "integer" } },
};

const required = <T extends Record<string, object>>(headers: T) =>
  Object.fromEntries(Object.entries(headers).map(([name, header]) => [name, { ...header, required: true }]));

const location = { Location: { description: "The key's URL.", required: true, schema: { type: "string" } } };

/** Headers of a successful answer. */
const success = { ...requestId, ...rateLimitHeaders };

/** The headers of a page of a list. */
const pageHeaders = (path: string) => ({
  Link: { description: `The next page: \`<${path}?limit=…&cursor=…>; rel="next"\` (same filters).`, schema: { type: "string" } },
  "X-Next-Cursor": { description: "The next page's cursor; absent on the last page.", schema: { type: "string" } },
  ...success,
});

const pageParameters = [
  { name: "limit", in: "query", description: "Page size.", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
  { name: "cursor", in: "query", description: "From `X-Next-Cursor` of the previous page.", schema: { type: "string" } },
];

/** Responses every authenticated operation can give. */
const authResponses = {
  "400": ref("BadRequest"),
  "401": ref("Unauthorized"),
  "403": ref("Forbidden"),
  "429": ref("TooManyRequests"),
  "503": ref("Unavailable"),
};

const bodyResponses = { "413": ref("PayloadTooLarge"), "415": ref("UnsupportedMediaType") };

const json = (schema: unknown) => ({ "application/json": { schema } });

const idParameter = {
  name: "id",
  in: "path",
  required: true,
  description: "The API key's id.",
  schema: { type: "string", minLength: 1, maxLength: 128 },
};

const preflight = (methods: string) => ({
  summary: "CORS preflight",
  description: `Answers a CORS preflight (or a plain OPTIONS): \`Allow: ${methods}\`; for an allowed Origin also Access-Control-Allow-Origin, -Methods, -Headers (the requested ones, echoed) and -Max-Age (${PREFLIGHT_MAX_AGE_SECONDS}). Needs no credential.`,
  security: [],
  responses: {
    "204": {
      description: "Preflight answered.",
      headers: { Allow: { description: "The path's methods.", required: true, schema: { type: "string" } }, ...requestId },
    },
  },
});

export const OPENAPI_DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "keyward dashboard API",
    version: "1.0.0",
    description: [
      "The dashboard's REST API for the API keys of the caller's organization, on keyward's HTTP port.",
      "",
      "Authentication: a user access token of the organization (`Authorization: Bearer <JWT>`), or an API key of",
      "the organization (`Authorization: Bearer sk_…`, or `x-api-key` + `x-sender-id`). A key needs scope",
      `\`${API_KEYS_READ_SCOPE}\` to read and \`${API_KEYS_WRITE_SCOPE}\` to change keys (\`${API_KEYS_WRITE_SCOPE}\` also reads); an unscoped key`,
      `may do both. The audit trail needs \`${AUDIT_READ_SCOPE}\` or either api_keys scope. The organization is always the`,
      "caller's; another organization's key id is 404.",
      "",
      "Least privilege: users and unscoped keys manage every key of their organization. A scoped key with",
      `\`${API_KEYS_WRITE_SCOPE}\` creates, changes, rolls, revokes, enables or disables only keys whose grant is within its own:`,
      "scopes it holds itself (never an unscoped key), not live from a test key, not master unless it is one, and only",
      "its own workspace's keys when bound to one, only keys allowed from within its own IP allowlist when it has one, and",
      "no more credits than it has left (never unlimited, no larger or faster refill) when it has credits; a change is",
      "judged on the key before and after it. A refusal is 403",
      "`insufficient_privilege` and changes nothing. Every such action, allowed or refused, is in the audit trail",
      "(`GET /v1/audit-events`).",
      "",
      `Request bodies are \`application/json\` (UTF-8), at most ${MAX_BODY_BYTES} bytes; unknown fields, wrong types`,
      "and unknown query parameters are rejected. Every error is `application/problem+json`",
      "(`type, title, status, detail, code`); a method a path does not serve is 405 with an `Allow` header, an",
      "unknown path 404.",
      "",
      "CORS applies to every /v1/ path (origins from `KEYWARD_CORS_ORIGINS`, default any). Every /v1 answer carries",
      "`X-Request-Id`.",
    ].join("\n"),
  },
  servers: [{ url: "/" }],
  security: [{ bearer: [] }, { apiKey: [], senderId: [] }],
  paths: {
    "/v1/api-keys": {
      post: {
        operationId: "createApiKey",
        summary: "Create an API key",
        description: "Answers the key with its plaintext `key`: the only time it is ever shown.",
        requestBody: { required: true, content: json({ $ref: "#/components/schemas/CreateApiKeyRequest" }) },
        responses: {
          "201": {
            description: "Created.",
            headers: { ...location, ...success },
            content: json({ $ref: "#/components/schemas/IssuedApiKey" }),
          },
          ...authResponses,
          ...bodyResponses,
        },
      },
      get: {
        operationId: "listApiKeys",
        summary: "List API keys",
        description:
          "Newest first, revoked keys included (filter with `active`). The body is a plain array; when more keys follow, " +
          "the next page's URL is in `Link: <…>; rel=\"next\"` and its cursor in `X-Next-Cursor`.",
        parameters: [
          ...pageParameters,
          { name: "mode", in: "query", schema: { type: "string", enum: ["live", "test"] } },
          { name: "active", in: "query", description: "false: revoked keys only.", schema: { type: "boolean" } },
        ],
        responses: {
          "200": {
            description: "One page of keys (never their secrets).",
            headers: pageHeaders("/v1/api-keys"),
            content: json({ type: "array", items: { $ref: "#/components/schemas/ApiKey" } }),
          },
          ...authResponses,
        },
      },
      options: preflight("GET, POST, OPTIONS"),
    },
    "/v1/api-keys/{id}": {
      parameters: [idParameter],
      get: {
        operationId: "getApiKey",
        summary: "Get an API key",
        responses: {
          "200": { description: "The key.", headers: success, content: json({ $ref: "#/components/schemas/ApiKey" }) },
          ...authResponses,
          "404": ref("NotFound"),
        },
      },
      patch: {
        operationId: "updateApiKey",
        summary: "Rename, re-scope, disable or enable an API key",
        requestBody: { required: true, content: json({ $ref: "#/components/schemas/UpdateApiKeyRequest" }) },
        responses: {
          "200": { description: "The updated key.", headers: success, content: json({ $ref: "#/components/schemas/ApiKey" }) },
          ...authResponses,
          ...bodyResponses,
          "404": ref("NotFound"),
          "409": ref("Conflict"),
        },
      },
      delete: {
        operationId: "revokeApiKey",
        summary: "Revoke an API key",
        description: "Revokes for good (the record is kept, `active: false`). Revoking a revoked key answers it unchanged.",
        responses: {
          "200": { description: "The revoked key.", headers: success, content: json({ $ref: "#/components/schemas/ApiKey" }) },
          ...authResponses,
          "404": ref("NotFound"),
        },
      },
      options: preflight("GET, PATCH, DELETE, OPTIONS"),
    },
    "/v1/api-keys/{id}/roll": {
      parameters: [idParameter],
      post: {
        operationId: "rollApiKey",
        summary: "Roll an API key's secret",
        description:
          "A new secret replaces the old one, which keeps working for `gracePeriodSeconds` (default 0: it stops at once). " +
          "Everything else carries over. Answers the new plaintext `key`, once.",
        requestBody: { required: false, content: json({ $ref: "#/components/schemas/RollApiKeyRequest" }) },
        responses: {
          "201": {
            description: "Rolled.",
            headers: { ...location, ...success },
            content: json({ $ref: "#/components/schemas/IssuedApiKey" }),
          },
          ...authResponses,
          ...bodyResponses,
          "404": ref("NotFound"),
          "409": ref("Conflict"),
        },
      },
      options: preflight("POST, OPTIONS"),
    },
    "/v1/api-keys/{id}/usage": {
      parameters: [idParameter],
      get: {
        operationId: "getApiKeyUsage",
        summary: "An API key's verdicts per hour or day",
        description:
          "Allowed and denied verdicts about the key (denials by code), counted per UTC hour and written in batches every " +
          "few seconds. `start` is rounded down and `end` up to whole buckets; at most 90 days.",
        parameters: [
          { name: "start", in: "query", description: "Inclusive (ISO 8601 with a zone). Default: `end` minus 24 hours (hour) or 30 days (day).", schema: { type: "string", format: "date-time" } },
          { name: "end", in: "query", description: "Exclusive (ISO 8601 with a zone). Default: now.", schema: { type: "string", format: "date-time" } },
          { name: "granularity", in: "query", schema: { type: "string", enum: ["hour", "day"], default: "hour" } },
        ],
        responses: {
          "200": { description: "Every bucket of the range.", headers: success, content: json({ $ref: "#/components/schemas/ApiKeyUsage" }) },
          ...authResponses,
          "404": ref("NotFound"),
        },
      },
      options: preflight("GET, OPTIONS"),
    },
    "/v1/audit-events": {
      get: {
        operationId: "listAuditEvents",
        summary: "List the organization's audit events",
        description:
          "Every management action on the organization's keys and the organization itself, allowed or refused, newest first. " +
          "The body is a plain array; when more events follow, the next page's URL is in `Link: <…>; rel=\"next\"` and its " +
          "cursor in `X-Next-Cursor`. Filters combine (all must match).",
        parameters: [
          ...pageParameters,
          { name: "action", in: "query", schema: { type: "string", enum: AUDIT_ACTIONS } },
          { name: "actorId", in: "query", description: "Only events by this key, user or service.", schema: { type: "string", minLength: 1, maxLength: 256 } },
          { name: "targetId", in: "query", description: "Only events about this key or organization.", schema: { type: "string", minLength: 1, maxLength: 256 } },
          { name: "start", in: "query", description: "Only events at or after this time (ISO 8601 with a zone).", schema: { type: "string", format: "date-time" } },
          { name: "end", in: "query", description: "Only events before this time (ISO 8601 with a zone).", schema: { type: "string", format: "date-time" } },
        ],
        responses: {
          "200": {
            description: "One page of events.",
            headers: pageHeaders("/v1/audit-events"),
            content: json({ type: "array", items: { $ref: "#/components/schemas/AuditEvent" } }),
          },
          ...authResponses,
        },
      },
      options: preflight("GET, OPTIONS"),
    },
    "/v1/openapi.json": {
      get: {
        operationId: "getOpenApiDocument",
        summary: "This document",
        security: [],
        responses: {
          "200": { description: "The OpenAPI 3.1 document.", content: json({ type: "object" }) },
          "400": ref("BadRequest"),
        },
      },
      options: preflight("GET, OPTIONS"),
    },
    "/healthz": {
      get: {
        operationId: "health",
        summary: "Liveness: the process is up",
        security: [],
        responses: {
          "200": { description: "Up.", content: json({ $ref: "#/components/schemas/Health" }) },
        },
      },
    },
    "/readyz": {
      get: {
        operationId: "readiness",
        summary: "Readiness: every dependency (storage, Redis when used) is reachable",
        security: [],
        responses: {
          "200": { description: "Ready.", content: json({ $ref: "#/components/schemas/Readiness" }) },
          "503": { description: "A dependency is unreachable.", content: json({ $ref: "#/components/schemas/Readiness" }) },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: {
        type: "http",
        scheme: "bearer",
        description: "An API key (`sk_live_…`, `sk_test_…`) or a user access token (JWT) of the organization.",
      },
      apiKey: { type: "apiKey", in: "header", name: "x-api-key", description: "An API key (Sent style), with x-sender-id." },
      senderId: { type: "apiKey", in: "header", name: "x-sender-id", description: "The organization's UUID (Sent style)." },
    },
    schemas: OPENAPI_SCHEMAS,
    responses: {
      BadRequest: problem("Invalid input: JSON, UTF-8, fields, types, query parameters; or an ambiguous credential."),
      Unauthorized: problem("Missing or invalid credential (the verdict of Verify, e.g. `Invalid API credentials!`).", {
        "WWW-Authenticate": { required: true, schema: { type: "string" } },
      }),
      Forbidden: problem(
        "The key lacks the scope (`code: insufficient_scope`), asks for more than its own grant (`code: insufficient_privilege`), " +
          "is used from an address outside its IP allowlist (`code: ip_not_allowed`), or the organization is suspended.",
      ),
      NotFound: problem("No such key in the caller's organization."),
      Conflict: problem("The key is revoked (or changed concurrently): it cannot be changed."),
      PayloadTooLarge: problem(`The body is larger than ${MAX_BODY_BYTES} bytes.`),
      UnsupportedMediaType: problem("The body is not application/json."),
      TooManyRequests: problem(
        "The organization's rate limit is exhausted (`code: rate_limited`), or the key has no credits left (`code: usage_exceeded`).",
        {
          "Retry-After": {
            description: "Seconds to wait: always when rate-limited; until the next refill when out of credits (absent when they never refill).",
            schema: { type: "integer" },
          },
          ...required(rateLimitHeaders),
        },
      ),
      Unavailable: problem("Storage or the audit trail is unreachable; retry.", { "Retry-After": { required: true, schema: { type: "integer" } } }),
    },
  },
} as const;
