/**
 * Verify's messages in the protobuf JSON format, for the common case only:
 * the bytes connect-es's JSON serialization writes (toJsonString, default
 * options) and the messages it reads (fromJsonString, unknown fields
 * refused), without protobuf-es's per-field reflection and its character
 * by character scan for repeated keys (a count of members is enough here)
 * — three quarters of what a JSON Verify spent on its messages. Reading
 * takes an object whose every key is a known field (by its JSON or proto
 * name, each at most once, none repeated in the text) holding a plain value
 * of its type; anything else — null values, numbers as strings, unknown
 * keys, text that did not decode cleanly, escaped surrogates, a byte-order
 * mark — answers null and fromJsonString reads it (and words any error).
 * Writing covers every
 * VerifyResponse. test/rpc/verify-json.test.ts holds both to protobuf-es.
 */
import type { DescEnum } from "@bufbuild/protobuf";
import { KeyKindSchema, ModeSchema } from "../../gen/authn/v1/common_pb.js";
import { PrincipalSchema, VerifyCodeSchema } from "../../gen/authn/v1/auth_pb.js";
import type { VerifyRequest, VerifyResponse } from "../../gen/authn/v1/auth_pb.js";
import type { Header } from "../../gen/authn/v1/common_pb.js";
import { emptyVerifyRequest } from "./verify-request-binary.js";

/** Buffer's native decoder, without `toString`'s argument handling (present on every Node Buffer, untyped). */
type NativeSlices = Buffer & { utf8Slice(start: number, end: number): string };

type StringField = "requiredScope" | "method" | "path" | "workspaceId" | "clientIp";

/** Each JSON key VerifyRequest accepts (JSON name and proto name), and the field it sets. */
const REQUEST_KEYS: ReadonlyMap<string, StringField | "headers" | "cost"> = new Map([
  ["headers", "headers"],
  ["requiredScope", "requiredScope"],
  ["required_scope", "requiredScope"],
  ["method", "method"],
  ["path", "path"],
  ["workspaceId", "workspaceId"],
  ["workspace_id", "workspaceId"],
  ["clientIp", "clientIp"],
  ["client_ip", "clientIp"],
  ["cost", "cost"],
]);

/** One bit per field, to tell a field given by both its names. */
const FIELD_BITS: Readonly<Record<StringField | "headers" | "cost", number>> = {
  headers: 1,
  requiredScope: 2,
  method: 4,
  path: 8,
  workspaceId: 16,
  clientIp: 32,
  cost: 64,
};

const MAX_UINT32 = 0xffffffff;
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function decodeVerifyRequestJson(bytes: Uint8Array): VerifyRequest | null {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Invalid UTF-8 decodes to U+FFFD (as TextDecoder does); a BOM is dropped
  // by TextDecoder only; a surrogate can only come from a \u escape, and
  // protobuf-es refuses a lone one: all go to fromJsonString.
  const text = (buf as NativeSlices).utf8Slice(0, buf.length);
  if (text.includes("\ufffd") || text.charCodeAt(0) === 0xfeff || SURROGATE_ESCAPE.test(text)) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(json)) return null;
  const request = emptyVerifyRequest();
  let seen = 0; // a bit per field (see FIELD_BITS)
  // Members read, to tell whether JSON.parse dropped any (see countMembers).
  let members = 0;
  for (const key in json) {
    members++;
    const field = REQUEST_KEYS.get(key);
    if (field === undefined || (seen & FIELD_BITS[field]) !== 0) return null;
    seen |= FIELD_BITS[field];
    const value = json[key];
    if (field === "headers") {
      if (!Array.isArray(value)) return null;
      for (const item of value) {
        const header = readHeader(item);
        if (header === null) return null;
        request.headers.push(header);
        // readHeader took no key but these two.
        members += (Object.hasOwn(item as object, "name") ? 1 : 0) + (Object.hasOwn(item as object, "value") ? 1 : 0);
      }
    } else if (field === "cost") {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_UINT32 || Object.is(value, -0)) return null;
      request.cost = value;
    } else {
      if (typeof value !== "string") return null;
      request[field] = value;
    }
  }
  // fromJsonString refuses a key given twice, which JSON.parse keeps quiet
  // about (the last wins): every member of the text must be in the result.
  return countMembers(text) === members ? request : null;
}

/**
 * The object members of JSON text that JSON.parse accepted: outside strings,
 * a colon only ever separates a member's name from its value.
 */
function countMembers(text: string): number {
  let count = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x3a) {
      count++;
    }
  }
  return count;
}

function readHeader(json: unknown): Header | null {
  if (!isObject(json)) return null;
  const header: Header = { $typeName: "authn.v1.Header", name: "", value: "" };
  let fields = 0;
  for (const key in json) {
    const value = json[key];
    if ((key !== "name" && key !== "value") || typeof value !== "string") return null;
    header[key] = value;
    fields++;
  }
  return fields <= 2 ? header : null;
}

/** An enum value's JSON name, or its number when the enum does not know it (as toJson writes it). */
function enumNames(desc: DescEnum): (value: number) => string | number {
  const names = new Map(desc.values.map((v) => [v.number, v.name]));
  return (value) => names.get(value) ?? value;
}

const codeName = enumNames(VerifyCodeSchema);
const modeName = enumNames(ModeSchema);
const kindName = enumNames(KeyKindSchema);
const principalName = enumNames(PrincipalSchema);

/**
 * The JSON object toJson makes of a response: fields in number order, zero
 * values left out (but `credits_remaining`, which has presence), enums by
 * name, 64-bit integers as strings — then one JSON.stringify.
 */
export function encodeVerifyResponseJson(r: VerifyResponse): Uint8Array {
  const out: Record<string, unknown> = {};
  if (r.allowed) out.allowed = true;
  if (r.code !== 0) out.code = codeName(r.code);
  if (r.organizationId !== "") out.organizationId = r.organizationId;
  if (r.keyId !== "") out.keyId = r.keyId;
  if (r.mode !== 0) out.mode = modeName(r.mode);
  if (r.kind !== 0) out.kind = kindName(r.kind);
  if (r.scopes.length > 0) out.scopes = r.scopes;
  if (r.unscoped) out.unscoped = true;
  if (r.workspaceId !== "") out.workspaceId = r.workspaceId;
  if (r.principal !== 0) out.principal = principalName(r.principal);
  if (r.userId !== "") out.userId = r.userId;
  const rl = r.rateLimit;
  if (rl) {
    const limit: Record<string, unknown> = {};
    if (rl.limit !== 0) limit.limit = rl.limit;
    if (rl.remaining !== 0) limit.remaining = rl.remaining;
    if (rl.resetMs !== 0n) limit.resetMs = String(rl.resetMs);
    if (rl.retryAfterMs !== 0n) limit.retryAfterMs = String(rl.retryAfterMs);
    out.rateLimit = limit;
  }
  const http = r.http;
  if (http) {
    const verdict: Record<string, unknown> = {};
    if (http.status !== 0) verdict.status = http.status;
    if (http.headers.length > 0) verdict.headers = http.headers.map(headerJson);
    if (http.body !== "") verdict.body = http.body;
    out.http = verdict;
  }
  if (Object.keys(r.metadata).length > 0) out.metadata = r.metadata;
  if (r.creditsRemaining !== undefined) out.creditsRemaining = String(r.creditsRemaining);
  return Buffer.from(JSON.stringify(out));
}

function headerJson(h: Header): Record<string, string> {
  const out: Record<string, string> = {};
  if (h.name !== "") out.name = h.name;
  if (h.value !== "") out.value = h.value;
  return out;
}
