/**
 * Route policy: which scope a public route needs (method + path pattern).
 * Pure: no I/O. Patterns use `{name}` for one path segment and a trailing
 * `*` for any rest of the path.
 */

export interface RouteRule {
  method: string;
  path: string;
  scope: string;
}

/** SenderKit's table: the default policy. */
export const DEFAULT_ROUTE_RULES: readonly RouteRule[] = [
  { method: "GET", path: "/v1/messages", scope: "read" },
  { method: "GET", path: "/v1/messages/{id}", scope: "read" },
  { method: "GET", path: "/v1/context", scope: "read" },
  { method: "GET", path: "/v1/templates", scope: "read" },
  { method: "GET", path: "/v1/templates/*", scope: "read" },
  { method: "POST", path: "/v1/templates/{slug}/render", scope: "read" },
  { method: "POST", path: "/v1/send", scope: "send" },
  { method: "POST", path: "/v1/send-raw", scope: "send" },
  { method: "POST", path: "/v1/templates/{slug}/drafts*", scope: "send" },
  { method: "DELETE", path: "/v1/messages/{id}", scope: "cancel" },
];

interface CompiledRule {
  method: string;
  pattern: RegExp;
  scope: string;
}

export class RoutePolicy {
  private readonly rules: CompiledRule[];

  constructor(rules: readonly RouteRule[]) {
    this.rules = rules.map((rule) => ({
      method: rule.method.toUpperCase(),
      pattern: compile(rule.path),
      scope: rule.scope,
    }));
  }

  /** The scope the route needs, or null when no rule names it. */
  scopeFor(method: string, path: string): string | null {
    const upper = method.toUpperCase();
    const bare = stripQuery(path);
    for (const rule of this.rules) {
      if (rule.method === upper && rule.pattern.test(bare)) return rule.scope;
    }
    return null;
  }
}

function stripQuery(path: string): string {
  const end = path.search(/[?#]/);
  const bare = end === -1 ? path : path.slice(0, end);
  return bare.length > 1 && bare.endsWith("/") ? bare.slice(0, -1) : bare;
}

function compile(path: string): RegExp {
  let source = "";
  for (const part of path.split(/(\{[^/}]+\}|\*$)/)) {
    if (part === "*") source += ".*";
    else if (/^\{[^/}]+\}$/.test(part)) source += "[^/]+";
    else source += part.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/**
 * Reads a policy from JSON: an array of `{method, path, scope}`. Throws a
 * plain Error naming what is wrong (configuration reports it).
 */
export function parseRouteRules(json: string): RouteRule[] {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value)) throw new Error("must be a JSON array of {method, path, scope}");
  return value.map((item: unknown, index) => {
    if (
      typeof item !== "object" ||
      item === null ||
      typeof (item as Record<string, unknown>).method !== "string" ||
      typeof (item as Record<string, unknown>).path !== "string" ||
      typeof (item as Record<string, unknown>).scope !== "string"
    ) {
      throw new Error(`entry ${index} must be {method, path, scope} strings`);
    }
    const { method, path, scope } = item as Record<string, string>;
    if (!path?.startsWith("/")) throw new Error(`entry ${index}: path must start with /`);
    return { method: method ?? "", path, scope: scope ?? "" };
  });
}
