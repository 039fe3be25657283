/**
 * Reading a public request's headers as Verify wants them: every name/value
 * pair exactly as received, whatever the transport delivered. Pure: no I/O.
 */
import { CREDENTIAL_HEADERS } from "../domain/credentials.js";
import type { RawHeader } from "../domain/credentials.js";

/**
 * Node's `rawHeaders` (HTTP/1.1 and HTTP/2: name, value, name, value, ...),
 * repeated headers kept apart. HTTP/2 pseudo-headers (`:path`, ...) are not
 * headers of the public request.
 */
export function fromRawHeaders(raw: readonly string[]): RawHeader[] {
  const headers: RawHeader[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    if (!name.startsWith(":")) headers.push({ name, value: raw[i + 1] ?? "" });
  }
  return headers;
}

/**
 * Envoy's `attributes.request.http.headers`: one entry per name, repeated
 * headers joined with commas. A credential header is split back into its
 * values, so two different credentials joined into one value are still two
 * (AMBIGUOUS_CREDENTIALS). No credential contains a comma: keys are base62,
 * tokens base64url, sender and workspace ids have no commas either.
 * The map comes as an object, or as its entries in the object's order.
 */
export function fromJoinedHeaders(joined: Readonly<Record<string, string>> | readonly RawHeader[]): RawHeader[] {
  const headers: RawHeader[] = [];
  const entries: readonly RawHeader[] = isHeaderList(joined) ? joined : Object.entries(joined).map(([name, value]) => ({ name, value }));
  for (const header of entries) {
    const { name, value } = header;
    if (name.startsWith(":")) continue;
    if (value.includes(",") && CREDENTIAL_HEADERS.has(name.toLowerCase())) {
      for (const part of value.split(",")) headers.push({ name, value: part });
    } else {
      headers.push(header);
    }
  }
  return headers;
}

const isHeaderList = (joined: Readonly<Record<string, string>> | readonly RawHeader[]): joined is readonly RawHeader[] => Array.isArray(joined);

/**
 * Headers a gateway adds for keyward, never part of the caller's credential:
 * the service token, the original method and URI, the compatibility switch,
 * and any client-sent copy of keyward's identity headers.
 */
const GATEWAY_HEADER = /^(x-keyward-|x-forwarded-|x-original-)/i;

export function withoutGatewayHeaders(headers: readonly RawHeader[]): RawHeader[] {
  return headers.filter((h) => !GATEWAY_HEADER.test(h.name));
}

/** The value of a header named once; null when absent, "ambiguous" when given twice with different values. */
export function singleHeader(headers: readonly RawHeader[], name: string): string | null | "ambiguous" {
  const lower = name.toLowerCase();
  let found: string | null = null;
  for (const header of headers) {
    if (header.name.toLowerCase() !== lower) continue;
    const value = header.value.trim();
    if (found !== null && found !== value) return "ambiguous";
    found = value;
  }
  return found;
}
