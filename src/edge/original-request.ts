/**
 * The public request a forward-auth call asks about: its method and URI from
 * `X-Forwarded-Method` + `X-Forwarded-Uri` (Caddy, Traefik), else
 * `X-Original-Method` + `X-Original-URI` (nginx), else the call's own method
 * and the path after `/forward-auth` (Envoy's HTTP ext_authz with
 * `path_prefix`). Pure: no I/O.
 */
import type { RawHeader } from "../domain/credentials.js";
import { canonicalPath } from "./canonical-path.js";
import { singleHeader } from "./raw-headers.js";

export const FORWARD_AUTH_PATH = "/forward-auth";

export type OriginalRequest = { ok: true; method: string; path: string } | { ok: false; reason: string };

/** An HTTP method: a token (RFC 9110), at most 16 characters. */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,16}$/;

const PAIRS = [
  ["X-Forwarded-Method", "X-Forwarded-Uri"],
  ["X-Original-Method", "X-Original-URI"],
] as const;

/** True for `/forward-auth` and `/forward-auth/...` (query aside). */
export function isForwardAuthPath(url: string): boolean {
  const path = url.split("?", 1)[0] ?? "";
  return path === FORWARD_AUTH_PATH || path.startsWith(`${FORWARD_AUTH_PATH}/`);
}

export function originalRequest(headers: readonly RawHeader[], ownMethod: string, ownUrl: string): OriginalRequest {
  let method = ownMethod;
  let uri: string | null = null;
  for (const [methodHeader, uriHeader] of PAIRS) {
    const m = singleHeader(headers, methodHeader);
    const u = singleHeader(headers, uriHeader);
    if (m === null && u === null) continue;
    if (m === "ambiguous" || u === "ambiguous") return { ok: false, reason: `${methodHeader} or ${uriHeader} is repeated` };
    if (m === null || u === null) return { ok: false, reason: `${methodHeader} and ${uriHeader} go together` };
    [method, uri] = [m, u];
    break;
  }
  if (uri === null) {
    const rest = ownUrl.slice(FORWARD_AUTH_PATH.length);
    uri = rest === "" || rest.startsWith("?") ? `/${rest}` : rest;
  }
  if (!METHOD.test(method)) return { ok: false, reason: "the original method is not an HTTP method" };
  const path = canonicalPath(uri);
  return path.ok ? { ok: true, method: method.toUpperCase(), path: path.path } : path;
}
