/**
 * VerifyResponse in the protobuf binary format, written straight into one
 * buffer: the bytes protobuf-es's toBinary writes (fields in number order,
 * proto3 zero values left out, map entries with both key and value), without
 * its writer's per-string arrays and chunk lists — most of what a Verify
 * allocated. test/rpc/verify-response-binary.test.ts compares both on
 * thousands of random responses. Anything this writer does not cover (unknown
 * fields, a 64-bit value past 2^53) goes to toBinary.
 */
import { toBinary } from "@bufbuild/protobuf";
import { VerifyResponseSchema } from "../../gen/authn/v1/auth_pb.js";
import type { HttpVerdict, RateLimit, VerifyResponse } from "../../gen/authn/v1/auth_pb.js";
import type { Header } from "../../gen/authn/v1/common_pb.js";
import { LENGTH_DELIMITED, ProtoWriter, VARINT, delimitedSize, stringFieldSize, stringSize, varintFieldSize, varintSize } from "./protobuf-writer.js";


export function encodeVerifyResponse(response: VerifyResponse): Uint8Array {
  if (!encodable(response)) return toBinary(VerifyResponseSchema, response);
  const size = responseSize(response);
  const out = new ProtoWriter(size);
  writeResponse(out, response);
  return out.buffer;
}

/** What the fast writer covers: no unknown fields, every 64-bit value a safe integer. */
function encodable(r: VerifyResponse): boolean {
  if (r.$unknown?.length || r.rateLimit?.$unknown?.length || r.http?.$unknown?.length) return false;
  if (r.http?.headers.some((h) => h.$unknown?.length)) return false;
  const rl = r.rateLimit;
  return (
    (rl === undefined || (safe(rl.resetMs) && safe(rl.retryAfterMs))) &&
    (r.creditsRemaining === undefined || safe(r.creditsRemaining))
  );
}

const safe = (value: bigint): boolean => value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER);

function rateLimitSize(rl: RateLimit): number {
  return (
    varintFieldSize(1, rl.limit) +
    varintFieldSize(2, rl.remaining) +
    varintFieldSize(3, Number(rl.resetMs)) +
    varintFieldSize(4, Number(rl.retryAfterMs))
  );
}

const headerSize = (h: Header): number => stringFieldSize(1, h.name) + stringFieldSize(2, h.value);

function httpSize(http: HttpVerdict): number {
  let size = varintFieldSize(1, http.status);
  for (const h of http.headers) size += delimitedSize(2, headerSize(h));
  return size + stringFieldSize(3, http.body);
}

const entrySize = (key: string, value: string): number => 1 + stringSize(key) + 1 + stringSize(value);

function responseSize(r: VerifyResponse): number {
  let size = (r.allowed ? 2 : 0) + varintFieldSize(2, r.code);
  size += stringFieldSize(3, r.organizationId) + stringFieldSize(4, r.keyId);
  size += varintFieldSize(5, r.mode) + varintFieldSize(6, r.kind);
  for (const scope of r.scopes) size += 1 + stringSize(scope);
  size += (r.unscoped ? 2 : 0) + stringFieldSize(9, r.workspaceId) + varintFieldSize(10, r.principal) + stringFieldSize(11, r.userId);
  if (r.rateLimit) size += delimitedSize(12, rateLimitSize(r.rateLimit));
  if (r.http) size += delimitedSize(13, httpSize(r.http));
  for (const key of Object.keys(r.metadata)) size += delimitedSize(14, entrySize(key, r.metadata[key] ?? ""));
  if (r.creditsRemaining !== undefined) size += 1 + varintSize(Number(r.creditsRemaining));
  return size;
}

function writeResponse(out: ProtoWriter, r: VerifyResponse): void {
  out.boolField(1, r.allowed);
  out.varintField(2, r.code);
  out.stringField(3, r.organizationId);
  out.stringField(4, r.keyId);
  out.varintField(5, r.mode);
  out.varintField(6, r.kind);
  for (const scope of r.scopes) {
    out.tag(7, LENGTH_DELIMITED);
    out.string(scope);
  }
  out.boolField(8, r.unscoped);
  out.stringField(9, r.workspaceId);
  out.varintField(10, r.principal);
  out.stringField(11, r.userId);
  const rl = r.rateLimit;
  if (rl) {
    out.nested(12, rateLimitSize(rl));
    out.varintField(1, rl.limit);
    out.varintField(2, rl.remaining);
    out.varintField(3, Number(rl.resetMs));
    out.varintField(4, Number(rl.retryAfterMs));
  }
  const http = r.http;
  if (http) {
    out.nested(13, httpSize(http));
    out.varintField(1, http.status);
    for (const h of http.headers) {
      out.nested(2, headerSize(h));
      out.stringField(1, h.name);
      out.stringField(2, h.value);
    }
    out.stringField(3, http.body);
  }
  for (const key of Object.keys(r.metadata)) {
    const value = r.metadata[key] ?? "";
    out.nested(14, entrySize(key, value));
    out.tag(1, LENGTH_DELIMITED);
    out.string(key);
    out.tag(2, LENGTH_DELIMITED);
    out.string(value);
  }
  if (r.creditsRemaining !== undefined) {
    out.tag(15, VARINT);
    out.varint(Number(r.creditsRemaining));
  }
}
