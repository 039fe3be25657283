import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  AuthService,
  Principal as ProtoPrincipal,
  RateLimitSchema,
  VerifyCode as ProtoVerifyCode,
  VerifyResponseSchema,
} from "../../gen/authn/v1/auth_pb.js";
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

export function verdictToProto(verdict: Verdict): VerifyResponse {
  const caller = verdict.caller;
  return create(VerifyResponseSchema, {
    allowed: verdict.allowed,
    code: ProtoVerifyCode[verdict.code satisfies VerifyCode],
    ...(caller
      ? {
          organizationId: caller.organizationId,
          keyId: caller.keyId,
          mode: modeToProto(caller.mode),
          kind: kindToProto(caller.kind),
          scopes: caller.scopes,
          unscoped: caller.unscoped,
          workspaceId: caller.workspaceId,
          principal: caller.principal === "user" ? ProtoPrincipal.USER : ProtoPrincipal.API_KEY,
          userId: caller.userId,
        }
      : {}),
    rateLimit: verdict.rateLimit
      ? create(RateLimitSchema, {
          limit: verdict.rateLimit.limit,
          remaining: verdict.rateLimit.remaining,
          resetMs: BigInt(verdict.rateLimit.resetMs),
          retryAfterMs: BigInt(verdict.rateLimit.retryAfterMs),
        })
      : undefined,
    http: verdict.http,
    metadata: verdict.metadata,
    creditsRemaining: verdict.creditsRemaining === null ? undefined : BigInt(verdict.creditsRemaining),
  });
}
