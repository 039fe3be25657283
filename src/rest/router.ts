/**
 * A tiny table-driven router: a route is a method and a path template whose
 * `{name}` segments match one path segment each. Unknown paths are 404,
 * known paths with another method 405 (with the methods that path allows).
 */
import { badRequest } from "./problem.js";

export type Method = "GET" | "POST" | "PATCH" | "DELETE";

/** The order methods are listed in (Allow headers). */
const METHOD_ORDER: readonly Method[] = ["GET", "POST", "PATCH", "DELETE"];

export interface RouteSpec {
  method: Method;
  /** e.g. `/v1/api-keys/{id}`. */
  path: string;
}

export type Match<R extends RouteSpec> =
  | { type: "route"; route: R; params: Record<string, string> }
  /** The path exists; `allowed` lists its methods. */
  | { type: "method_not_allowed"; allowed: Method[] }
  | { type: "not_found" };

export class Router<R extends RouteSpec> {
  private readonly compiled: { route: R; segments: string[] }[];

  constructor(readonly routes: readonly R[]) {
    this.compiled = routes.map((route) => ({ route, segments: route.path.split("/") }));
  }

  match(method: string, path: string): Match<R> {
    const segments = path.split("/");
    const allowed: Method[] = [];
    for (const { route, segments: pattern } of this.compiled) {
      const params = matchSegments(pattern, segments);
      if (!params) continue;
      if (route.method === method) return { type: "route", route, params: decodeParams(params) };
      allowed.push(route.method);
    }
    if (allowed.length === 0) return { type: "not_found" };
    return { type: "method_not_allowed", allowed: METHOD_ORDER.filter((m) => allowed.includes(m)) };
  }
}

function matchSegments(pattern: readonly string[], segments: readonly string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i] ?? "";
    const got = segments[i] ?? "";
    if (want.startsWith("{") && want.endsWith("}")) {
      if (got === "") return null;
      params[want.slice(1, -1)] = got;
    } else if (want !== got) {
      return null;
    }
  }
  return params;
}

function decodeParams(raw: Record<string, string>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    try {
      params[name] = decodeURIComponent(value);
    } catch {
      throw badRequest(name, "is not valid percent-encoded UTF-8");
    }
  }
  return params;
}
