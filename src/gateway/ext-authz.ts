/**
 * Envoy's external authorization over gRPC
 * (`envoy.service.auth.v3.Authorization/Check`) on the internal port: Envoy
 * and Istio ask here about each public request. Decode the attributes,
 * decide, encode the answer: everything else is the shared edge's.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ServiceImpl } from "@connectrpc/connect";
import type { HeaderValueOption } from "../../gen/envoy/config/core/v3/base_pb.js";
import { Authorization, CheckResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import type { CheckRequest, CheckResponse } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import type { RawHeader } from "../domain/credentials.js";
import type { HttpHeader } from "../domain/verdict.js";
import { canonicalPath } from "../edge/canonical-path.js";
import { clientIpFrom } from "../domain/request-context.js";
import { problemAnswer } from "../edge/http-answer.js";
import type { HttpAnswer } from "../edge/http-answer.js";
import { fromJoinedHeaders, withoutGatewayHeaders } from "../edge/raw-headers.js";
import { bearerToken, SERVICE_TOKEN_HEADER } from "../edge/service-token.js";
import type { ServiceTokens } from "../edge/service-token.js";
import type { VerificationEdge } from "../edge/verification-edge.js";

/** google.rpc.Code values Envoy reads in CheckResponse.status. */
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

export function extAuthzService(edge: VerificationEdge, tokens: ServiceTokens): ServiceImpl<typeof Authorization> {
  const check = checkCall(edge, tokens);
  return { check: (req, ctx) => check(checkInputOf(req), { header: (name) => ctx.requestHeader.get(name) }) };
}

/** What Check reads of a CheckRequest. */
export interface CheckInput {
  method: string;
  path: string;
  /** The public request's headers: one per entry with raw headers, else the comma-joined map split. */
  headers: RawHeader[];
  /** The source's socket address, written as clientIpFrom writes it; "" when the source has none. */
  clientIp: string;
}

/** The fields of a CheckRequest Check reads, as both readers (protobuf-es's and check-request-binary.ts) find them. */
export interface CheckRequestParts {
  method: string;
  path: string;
  /** HttpRequest.headers: the map, or its entries in the map object's order. */
  headers: Readonly<Record<string, string>> | readonly RawHeader[];
  headerMap: readonly { key: string; value: string; rawValue: Uint8Array }[];
  addressCase: "socketAddress" | undefined;
  address: string;
}

export function checkInputFrom(parts: CheckRequestParts): CheckInput {
  return {
    method: parts.method,
    path: parts.path,
    headers: headersOf(parts),
    clientIp: parts.addressCase === "socketAddress" ? clientIpFrom(parts.address) : "",
  };
}

/** The input of a CheckRequest protobuf-es read. */
export function checkInputOf(req: CheckRequest): CheckInput {
  const http = req.attributes?.request?.http;
  const address = req.attributes?.source?.address?.address;
  const socket = address?.case === "socketAddress" ? address.value : undefined;
  return checkInputFrom({
    method: http?.method ?? "",
    path: http?.path ?? "",
    headers: http?.headers ?? {},
    headerMap: http?.headerMap?.headers ?? [],
    addressCase: socket ? "socketAddress" : undefined,
    address: socket?.address ?? "",
  });
}

/**
 * Check, as both connect-node and the direct lane (src/rpc/direct-lane.ts)
 * call it: `call.header` reads the call's request headers.
 */
export function checkCall(edge: VerificationEdge, tokens: ServiceTokens) {
  return async (input: CheckInput, call: { header(name: string): string | null }): Promise<CheckResponse> => {
    const token = call.header(SERVICE_TOKEN_HEADER) ?? bearerToken(call.header("authorization"));
    if (!tokens.check(token).ok) throw new ConnectError("a valid service token is required", Code.Unauthenticated);
    const path = canonicalPath(input.path || "/");
    if (!path.ok) return denied(problemAnswer(400, "invalid_path", path.reason));
    const decision = await edge.decide({
      transport: "ext_authz",
      headers: withoutGatewayHeaders(input.headers),
      method: input.method || "GET",
      path: path.path,
      clientIp: input.clientIp,
    });
    if (decision.kind === "unavailable") throw new ConnectError("keyward cannot decide right now", Code.Unavailable);
    if (decision.kind === "invalid") return denied(problemAnswer(400, "invalid_request", decision.detail));
    const { verdict } = decision;
    if (!verdict.allowed) return denied(verdict.http);
    return allowedResponse(edge.answer(verdict).headers);
  };
}

/**
 * The allowed answer: the identity headers for the upstream request, the
 * `RateLimit-*` headers for the client's response. Written as the complete
 * messages create() would make (every allowed Check builds one).
 */
function allowedResponse(headers: readonly HttpHeader[]): CheckResponse {
  const upstream: HttpHeader[] = [];
  const client: HttpHeader[] = [];
  for (const h of headers) {
    if (h.name.startsWith("X-Keyward-")) upstream.push(h);
    else if (RATE_LIMIT_HEADER.test(h.name)) client.push(h);
  }
  return {
    $typeName: "envoy.service.auth.v3.CheckResponse",
    status: { $typeName: "google.rpc.Status", code: 0, message: "" },
    httpResponse: {
      case: "okResponse",
      value: {
        $typeName: "envoy.service.auth.v3.OkHttpResponse",
        // append false: a client-sent copy of an identity header is replaced, never kept.
        headers: options(upstream),
        responseHeadersToAdd: options(client),
      },
    },
  };
}

const decoder = new TextDecoder();
/** The verdict's `RateLimit-*` headers (see rateLimitHeaders), for the client's response. */
const RATE_LIMIT_HEADER = /^ratelimit-/i;

/** The request's headers: one per entry with raw headers, else the comma-joined map. */
function headersOf(parts: CheckRequestParts): RawHeader[] {
  const raw = parts.headerMap;
  if (raw.length > 0) {
    const out: RawHeader[] = [];
    for (const h of raw) if (!h.key.startsWith(":")) out.push({ name: h.key, value: h.value || decoder.decode(h.rawValue) });
    return out;
  }
  return fromJoinedHeaders(parts.headers);
}

function denied(answer: HttpAnswer): CheckResponse {
  return create(CheckResponseSchema, {
    status: { code: answer.status === 401 ? UNAUTHENTICATED : PERMISSION_DENIED, message: `denied: ${answer.status}` },
    httpResponse: {
      case: "deniedResponse",
      value: { status: { code: answer.status }, headers: options(answer.headers), body: answer.body },
    },
  });
}

/**
 * Header options that replace a header's earlier value, and keep every value
 * of a repeated one. Written as the complete messages create() would make
 * (every field set): a dozen per allowed Check, on the hot path.
 */
function options(headers: readonly HttpHeader[]): HeaderValueOption[] {
  const out: HeaderValueOption[] = [];
  for (let i = 0; i < headers.length; i++) {
    const { name, value } = headers[i] as HttpHeader;
    const key = lowerCase(name);
    let append = false;
    for (let j = 0; j < i && !append; j++) append = (out[j] as HeaderValueOption).header?.key === key;
    out.push({
      $typeName: "envoy.config.core.v3.HeaderValueOption",
      header: { $typeName: "envoy.config.core.v3.HeaderValue", key, value, rawValue: NO_BYTES },
      append,
    });
  }
  return out;
}

const NO_BYTES = new Uint8Array(0);

/**
 * Header names in lower case, remembered: the answers' names are a fixed set
 * (identity, RateLimit-*, problem headers, X-Keyward-Meta-* of the
 * configured keys), and every allowed Check writes a dozen of them.
 */
const LOWER = new Map<string, string>();
const LOWER_MAX = 1024;
function lowerCase(name: string): string {
  let lower = LOWER.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (LOWER.size < LOWER_MAX) LOWER.set(name, lower);
  }
  return lower;
}
