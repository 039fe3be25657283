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
import type { AttributeContext_HttpRequest } from "../../gen/envoy/service/auth/v3/attribute_context_pb.js";
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
  return { check: (req, ctx) => check(req, { header: (name) => ctx.requestHeader.get(name) }) };
}

/**
 * Check, as both connect-node and the direct lane (src/rpc/direct-lane.ts)
 * call it: `call.header` reads the call's request headers.
 */
export function checkCall(edge: VerificationEdge, tokens: ServiceTokens) {
  return async (req: CheckRequest, call: { header(name: string): string | null }): Promise<CheckResponse> => {
    const token = call.header(SERVICE_TOKEN_HEADER) ?? bearerToken(call.header("authorization"));
    if (!tokens.check(token).ok) throw new ConnectError("a valid service token is required", Code.Unauthenticated);
    const http = req.attributes?.request?.http;
    const address = req.attributes?.source?.address?.address;
    const path = canonicalPath(http?.path || "/");
    if (!path.ok) return denied(problemAnswer(400, "invalid_path", path.reason));
    const decision = await edge.decide({
      transport: "ext_authz",
      headers: withoutGatewayHeaders(headersOf(http)),
      method: http?.method || "GET",
      path: path.path,
      clientIp: address?.case === "socketAddress" ? clientIpFrom(address.value.address) : "",
    });
    if (decision.kind === "unavailable") throw new ConnectError("keyward cannot decide right now", Code.Unavailable);
    if (decision.kind === "invalid") return denied(problemAnswer(400, "invalid_request", decision.detail));
    const { verdict } = decision;
    if (!verdict.allowed) return denied(verdict.http);
    const allowed = edge.answer(verdict);
    return create(CheckResponseSchema, {
      status: { code: 0 },
      httpResponse: {
        case: "okResponse",
        value: {
          // append false: a client-sent copy of an identity header is replaced, never kept.
          headers: options(allowed.headers.filter((h) => h.name.startsWith("X-Keyward-"))),
          responseHeadersToAdd: options(allowed.headers.filter((h) => RATE_LIMIT_HEADER.test(h.name))),
        },
      },
    });
  };
}

const decoder = new TextDecoder();
/** The verdict's `RateLimit-*` headers (see rateLimitHeaders), for the client's response. */
const RATE_LIMIT_HEADER = /^ratelimit-/i;

/** The request's headers: one per entry with raw headers, else the comma-joined map. */
function headersOf(http: AttributeContext_HttpRequest | undefined): RawHeader[] {
  const raw = http?.headerMap?.headers ?? [];
  if (raw.length > 0) {
    return raw
      .filter((h) => !h.key.startsWith(":"))
      .map((h) => ({ name: h.key, value: h.value || decoder.decode(h.rawValue) }));
  }
  return fromJoinedHeaders(http?.headers ?? {});
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
    const key = name.toLowerCase();
    let append = false;
    for (let j = 0; j < i && !append; j++) append = (headers[j] as HttpHeader).name.toLowerCase() === key;
    out.push({
      $typeName: "envoy.config.core.v3.HeaderValueOption",
      header: { $typeName: "envoy.config.core.v3.HeaderValue", key, value, rawValue: NO_BYTES },
      append,
    });
  }
  return out;
}

const NO_BYTES = new Uint8Array(0);
