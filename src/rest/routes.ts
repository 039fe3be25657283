/**
 * The routes of the dashboard's REST shim. Each is a thin entry point: read
 * the request, call the key lifecycle use case, map the answer to JSON.
 */
import type { IncomingMessage } from "node:http";
import type { ApiKeys } from "../app/api-keys.js";
import { MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from "../app/api-keys.js";
import type { Mode } from "../domain/api-key.js";
import {
  apiKeyToJson,
  createInputFromJson,
  gracePeriodMsFromJson,
  issuedKeyToJson,
  MODES,
  updateInputFromJson,
} from "./api-key-json.js";
import type { Access } from "./authenticate.js";
import { OPENAPI_DOCUMENT } from "./openapi.js";
import { badRequest } from "./problem.js";
import { readJsonBody } from "./request-body.js";
import { jsonResponse } from "./response.js";
import type { RestResponse } from "./response.js";
import type { RouteSpec } from "./router.js";

export interface RouteCall {
  apiKeys: ApiKeys;
  req: IncomingMessage;
  params: Readonly<Record<string, string>>;
  query: QueryParams;
  /** The caller's organization (the verdict's); empty on public routes. */
  organizationId: string;
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
    async handle({ apiKeys, req, organizationId }) {
      const issued = await apiKeys.create(createInputFromJson(organizationId, await readJsonBody(req)));
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
      const headers: Record<string, string> = {};
      if (page.nextPageToken) {
        const next = new URLSearchParams({ limit: String(filters.pageSize), cursor: page.nextPageToken });
        if (filters.mode) next.set("mode", filters.mode);
        if (filters.active !== undefined) next.set("active", String(filters.active));
        headers["link"] = `</v1/api-keys?${next.toString()}>; rel="next"`;
        headers["x-next-cursor"] = page.nextPageToken;
      }
      return jsonResponse(200, page.records.map(apiKeyToJson), headers);
    },
  },
  {
    method: "GET",
    path: "/v1/api-keys/{id}",
    access: "read",
    query: [],
    handle: async ({ apiKeys, params, organizationId }) =>
      jsonResponse(200, apiKeyToJson(await apiKeys.get(organizationId, params["id"] ?? ""))),
  },
  {
    method: "PATCH",
    path: "/v1/api-keys/{id}",
    access: "write",
    query: [],
    async handle({ apiKeys, req, params, organizationId }) {
      const input = updateInputFromJson(await readJsonBody(req));
      return jsonResponse(200, apiKeyToJson(await apiKeys.update(organizationId, params["id"] ?? "", input)));
    },
  },
  {
    method: "DELETE",
    path: "/v1/api-keys/{id}",
    access: "write",
    query: [],
    handle: async ({ apiKeys, params, organizationId }) =>
      jsonResponse(200, apiKeyToJson(await apiKeys.revoke(organizationId, params["id"] ?? ""))),
  },
  {
    method: "POST",
    path: "/v1/api-keys/{id}/roll",
    access: "write",
    query: [],
    async handle({ apiKeys, req, params, organizationId }) {
      const gracePeriodMs = gracePeriodMsFromJson(await readJsonBody(req));
      const issued = await apiKeys.roll(organizationId, params["id"] ?? "", gracePeriodMs);
      return jsonResponse(201, issuedKeyToJson(issued), { location: keyPath(issued.record.id) });
    },
  },
];

interface ListFilters {
  pageSize: number;
  pageToken?: string;
  mode?: Mode;
  active?: boolean;
}

function listFilters(query: QueryParams): ListFilters {
  const filters: ListFilters = { pageSize: DEFAULT_PAGE_SIZE };
  const limit = query.get("limit");
  if (limit !== undefined) {
    const value = /^\d{1,3}$/.test(limit) ? Number(limit) : 0;
    if (value < 1 || value > MAX_PAGE_SIZE) throw badRequest("limit", `must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    filters.pageSize = value;
  }
  const cursor = query.get("cursor");
  if (cursor !== undefined) {
    if (cursor === "") throw badRequest("cursor", "is empty");
    filters.pageToken = cursor;
  }
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
