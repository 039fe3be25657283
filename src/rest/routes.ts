/**
 * The routes of the dashboard's REST shim. Each is a thin entry point: read
 * the request, call the key lifecycle use case, map the answer to JSON.
 */
import type { IncomingMessage } from "node:http";
import type { ApiKeys } from "../app/api-keys.js";
import type { AuditTrail } from "../app/audit-trail.js";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../app/paging.js";
import type { Mode } from "../domain/api-key.js";
import type { UsageGranularity } from "../domain/usage.js";
import type { RequestContext } from "../domain/request-context.js";
import {
  apiKeyToJson,
  createInputFromJson,
  gracePeriodMsFromJson,
  issuedKeyToJson,
  MODES,
  updateInputFromJson,
  usageBucketToJson,
} from "./api-key-json.js";
import { auditEventToJson } from "./audit-event-json.js";
import type { Access } from "./authenticate.js";
import { readDateTime } from "./json-shape.js";
import { OPENAPI_DOCUMENT } from "./openapi.js";
import { badRequest } from "./problem.js";
import { readJsonBody } from "./request-body.js";
import { jsonResponse } from "./response.js";
import type { RestResponse } from "./response.js";
import type { RouteSpec } from "./router.js";

export interface RouteCall {
  apiKeys: ApiKeys;
  audit: AuditTrail;
  req: IncomingMessage;
  params: Readonly<Record<string, string>>;
  query: QueryParams;
  /** The caller's organization (the verdict's); empty on public routes. */
  organizationId: string;
  /** Who calls (the verdict's caller), with the request id and client address; null on public routes. */
  context: RequestContext | null;
}

/** Query parameters, each at most once. */
export type QueryParams = ReadonlyMap<string, string>;

export interface RestRoute extends RouteSpec {
  /** What the caller needs; null: public, no credential. */
  access: Access | null;
  /** The query parameters the route knows; any other is a 400. */
  query: readonly string[];
  handle(call: RouteCall): Promise<RestResponse>;
}

const keyPath = (id: string) => `/v1/api-keys/${encodeURIComponent(id)}`;

export const REST_ROUTES: readonly RestRoute[] = [
  {
    method: "GET",
    path: "/v1/openapi.json",
    access: null,
    query: [],
    handle: async () => jsonResponse(200, OPENAPI_DOCUMENT),
  },
  {
    method: "POST",
    path: "/v1/api-keys",
    access: "write",
    query: [],
    async handle(call) {
      const input = createInputFromJson(call.organizationId, await readJsonBody(call.req));
      const issued = await call.apiKeys.create(acting(call), input);
      return jsonResponse(201, issuedKeyToJson(issued), { location: keyPath(issued.record.id) });
    },
  },
  {
    method: "GET",
    path: "/v1/api-keys",
    access: "read",
    query: ["limit", "cursor", "mode", "active"],
    async handle({ apiKeys, query, organizationId }) {
      const filters = listFilters(query);
      const page = await apiKeys.list(organizationId, filters);
      return jsonResponse(200, page.records.map(apiKeyToJson), nextPageHeaders("/v1/api-keys", query, filters, page.nextPageToken));
    },
  },
  {
    method: "GET",
    path: "/v1/api-keys/{id}",
    access: "read",
    query: [],
    handle: async (call) => jsonResponse(200, apiKeyToJson(await call.apiKeys.get(call.organizationId, keyId(call)))),
  },
  {
    method: "PATCH",
    path: "/v1/api-keys/{id}",
    access: "write",
    query: [],
    async handle(call) {
      const input = updateInputFromJson(await readJsonBody(call.req));
      return jsonResponse(200, apiKeyToJson(await call.apiKeys.update(acting(call), call.organizationId, keyId(call), input)));
    },
  },
  {
    method: "DELETE",
    path: "/v1/api-keys/{id}",
    access: "write",
    query: [],
    handle: async (call) =>
      jsonResponse(200, apiKeyToJson(await call.apiKeys.revoke(acting(call), call.organizationId, keyId(call)))),
  },
  {
    method: "POST",
    path: "/v1/api-keys/{id}/roll",
    access: "write",
    query: [],
    async handle(call) {
      const gracePeriodMs = gracePeriodMsFromJson(await readJsonBody(call.req));
      const issued = await call.apiKeys.roll(acting(call), call.organizationId, keyId(call), gracePeriodMs);
      return jsonResponse(201, issuedKeyToJson(issued), { location: keyPath(issued.record.id) });
    },
  },
  {
    method: "GET",
    path: "/v1/api-keys/{id}/usage",
    access: "read",
    query: ["start", "end", "granularity"],
    async handle(call) {
      const buckets = await call.apiKeys.usage(call.organizationId, keyId(call), usageQuery(call.query));
      return jsonResponse(200, { buckets: buckets.map(usageBucketToJson) });
    },
  },
  {
    method: "GET",
    path: "/v1/audit-events",
    access: "audit",
    query: ["limit", "cursor", "action", "actorId", "targetId", "start", "end"],
    async handle({ audit, query, organizationId }) {
      const filters = auditFilters(query);
      const page = await audit.list(organizationId, filters);
      return jsonResponse(200, page.events.map(auditEventToJson), nextPageHeaders("/v1/audit-events", query, filters, page.nextPageToken));
    },
  },
];

/** The request context of an authenticated route. */
function acting(call: RouteCall): RequestContext {
  if (!call.context) throw new Error(`${call.req.method} ${call.req.url} needs an authenticated caller`);
  return call.context;
}

const keyId = (call: RouteCall): string => call.params["id"] ?? "";

interface Page {
  pageSize: number;
  pageToken?: string;
}

/** `limit` (1..100, default 20) and `cursor`. */
function pageOf(query: QueryParams): Page {
  const page: Page = { pageSize: DEFAULT_PAGE_SIZE };
  const limit = query.get("limit");
  if (limit !== undefined) {
    const value = /^\d{1,3}$/.test(limit) ? Number(limit) : 0;
    if (value < 1 || value > MAX_PAGE_SIZE) throw badRequest("limit", `must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    page.pageSize = value;
  }
  const cursor = query.get("cursor");
  if (cursor !== undefined) {
    if (cursor === "") throw badRequest("cursor", "is empty");
    page.pageToken = cursor;
  }
  return page;
}

/**
 * When another page follows: `Link: <path?…&cursor=…>; rel="next"` (the same
 * filters, the page size) and `X-Next-Cursor`.
 */
function nextPageHeaders(path: string, query: QueryParams, page: Page, nextPageToken: string): Record<string, string> {
  if (!nextPageToken) return {};
  const next = new URLSearchParams(query as Map<string, string>);
  next.set("limit", String(page.pageSize));
  next.set("cursor", nextPageToken);
  return { link: `<${path}?${next.toString()}>; rel="next"`, "x-next-cursor": nextPageToken };
}

interface ListFilters extends Page {
  mode?: Mode;
  active?: boolean;
}

function listFilters(query: QueryParams): ListFilters {
  const filters: ListFilters = pageOf(query);
  const mode = query.get("mode");
  if (mode !== undefined) {
    if (!MODES.includes(mode as Mode)) throw badRequest("mode", 'must be "live" or "test"');
    filters.mode = mode as Mode;
  }
  const active = query.get("active");
  if (active !== undefined) {
    if (active !== "true" && active !== "false") throw badRequest("active", 'must be "true" or "false"');
    filters.active = active === "true";
  }
  return filters;
}

/** `action`, `actorId`, `targetId` (exact), `start` (inclusive) and `end` (exclusive) as ISO 8601 date-times. */
function auditFilters(query: QueryParams) {
  const start = query.get("start");
  const end = query.get("end");
  return {
    ...pageOf(query),
    action: query.get("action"),
    actorId: query.get("actorId"),
    targetId: query.get("targetId"),
    start: start === undefined ? undefined : readDateTime("start", start),
    end: end === undefined ? undefined : readDateTime("end", end),
  };
}

export const USAGE_GRANULARITIES: readonly UsageGranularity[] = ["hour", "day"];

/** `start` (inclusive) and `end` (exclusive) as ISO 8601 date-times, `granularity` hour or day. */
function usageQuery(query: QueryParams) {
  const start = query.get("start");
  const end = query.get("end");
  const granularity = query.get("granularity");
  if (granularity !== undefined && !USAGE_GRANULARITIES.includes(granularity as UsageGranularity)) {
    throw badRequest("granularity", 'must be "hour" or "day"');
  }
  return {
    start: start === undefined ? null : readDateTime("start", start),
    end: end === undefined ? null : readDateTime("end", end),
    granularity: granularity as UsageGranularity | undefined,
  };
}
