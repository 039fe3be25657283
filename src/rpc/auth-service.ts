import type { ServiceImpl } from "@connectrpc/connect";
import {
  AuthService,
  Principal as ProtoPrincipal,
  VerifyCode as ProtoVerifyCode,
} from "../../gen/authn/v1/auth_pb.js";
import { KeyKind, Mode } from "../../gen/authn/v1/common_pb.js";
import type { Header } from "../../gen/authn/v1/common_pb.js";
import type { VerifyRequest, VerifyResponse } from "../../gen/authn/v1/auth_pb.js";
import type { Verifier } from "../app/verify.js";
import type { Verdict, VerifyCode } from "../domain/verdict.js";
import { kindToProto, modeToProto } from "./proto-mapping.js";

/** authn.v1.AuthService: Verify answers a verdict, never an RPC error for a denial. */
export function authService(verifier: Verifier): ServiceImpl<typeof AuthService> {
  return { verify: verifyCall(verifier) };
}

/** Verify, as both connect-node and the direct lane (src/rpc/direct-lane.ts) call it. */
export function verifyCall(verifier: Verifier): (req: VerifyRequest) => Promise<VerifyResponse> {
  return async (req) => {
    const verdict = await verifier.verify({
      headers: req.headers,
      requiredScope: req.requiredScope,
      method: req.method,
      path: req.path,
      workspaceId: req.workspaceId,
      clientIp: req.clientIp,
      cost: req.cost,
    });
    return verdictToProto(verdict);
  };
}

/**
 * The verdict as a VerifyResponse. Written as the complete messages create()
 * would make (every field set, nested messages typed): this runs on every
 * Verify, and create()'s reflection was a tenth of what one allocated.
 * test/rpc/verdict-to-proto.test.ts holds it to create().
 */
export function verdictToProto(verdict: Verdict): VerifyResponse {
  const caller = verdict.caller;
  const rateLimit = verdict.rateLimit;
  const http = verdict.http;
  const headers: Header[] = [];
  for (const { name, value } of http.headers) headers.push({ $typeName: "authn.v1.Header", name, value });
  return {
    $typeName: "authn.v1.VerifyResponse",
    allowed: verdict.allowed,
    code: ProtoVerifyCode[verdict.code satisfies VerifyCode],
    organizationId: caller?.organizationId ?? "",
    keyId: caller?.keyId ?? "",
    mode: caller ? modeToProto(caller.mode) : Mode.UNSPECIFIED,
    kind: caller ? kindToProto(caller.kind) : KeyKind.UNSPECIFIED,
    scopes: caller ? caller.scopes : [],
    unscoped: caller?.unscoped ?? false,
    workspaceId: caller?.workspaceId ?? "",
    principal: caller ? (caller.principal === "user" ? ProtoPrincipal.USER : ProtoPrincipal.API_KEY) : ProtoPrincipal.UNSPECIFIED,
    userId: caller?.userId ?? "",
    rateLimit: rateLimit
      ? {
          $typeName: "authn.v1.RateLimit",
          limit: rateLimit.limit,
          remaining: rateLimit.remaining,
          resetMs: BigInt(rateLimit.resetMs),
          retryAfterMs: BigInt(rateLimit.retryAfterMs),
        }
      : undefined,
    http: { $typeName: "authn.v1.HttpVerdict", status: http.status, headers, body: http.body },
    metadata: verdict.metadata,
    creditsRemaining: verdict.creditsRemaining === null ? undefined : BigInt(verdict.creditsRemaining),
  };
}
