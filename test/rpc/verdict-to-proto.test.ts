import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Principal, VerifyCode, VerifyResponseSchema } from "../../gen/authn/v1/auth_pb.js";
import { KeyKind, Mode } from "../../gen/authn/v1/common_pb.js";
import { allow, deny } from "../../src/domain/verdict.js";
import type { Caller, Verdict } from "../../src/domain/verdict.js";
import { verdictToProto } from "../../src/rpc/auth-service.js";

const caller: Caller = {
  principal: "api_key",
  organizationId: "0b6e1d9c-5b8a-4f8e-9d7a-1234567890ab",
  keyId: "key_1",
  userId: "",
  mode: "test",
  kind: "master",
  scopes: ["send", "read"],
  unscoped: false,
  workspaceId: "ws_1",
  keyWorkspaceId: "ws_1",
  keyIpAllowlist: [],
  keyCredits: null,
};
const rateLimit = { limit: 100, remaining: 99, resetMs: 600, retryAfterMs: 0 };

/** What create() makes of the same verdict: the message connect-node's serializers expect. */
function expected(v: Verdict) {
  const c = v.caller;
  return create(VerifyResponseSchema, {
    allowed: v.allowed,
    code: VerifyCode[v.code],
    ...(c && {
      organizationId: c.organizationId,
      keyId: c.keyId,
      mode: c.mode === "live" ? Mode.LIVE : Mode.TEST,
      kind: c.kind === "master" ? KeyKind.MASTER : KeyKind.STANDARD,
      scopes: c.scopes,
      unscoped: c.unscoped,
      workspaceId: c.workspaceId,
      principal: c.principal === "user" ? Principal.USER : Principal.API_KEY,
      userId: c.userId,
    }),
    ...(v.rateLimit && {
      rateLimit: { ...v.rateLimit, resetMs: BigInt(v.rateLimit.resetMs), retryAfterMs: BigInt(v.rateLimit.retryAfterMs) },
    }),
    http: v.http,
    metadata: v.metadata,
    ...(v.creditsRemaining !== null && { creditsRemaining: BigInt(v.creditsRemaining) }),
  });
}

describe("verdictToProto", () => {
  const verdicts: [string, Verdict][] = [
    ["allowed, rate limit, metadata, credits", allow(caller, rateLimit, { metadata: { plan: "pro", team: "a" }, creditsRemaining: 0 })],
    ["allowed, a user, no rate limit", allow({ ...caller, principal: "user", keyId: "", userId: "u_1", scopes: [], unscoped: true }, null)],
    ["rate limited", deny("RATE_LIMITED", { caller, rateLimit: { ...rateLimit, remaining: 0, retryAfterMs: 1500 } })],
    ["unknown key", deny("INVALID_CREDENTIALS")],
    ["usage exceeded", deny("USAGE_EXCEEDED", { caller, rateLimit, creditsRemaining: 0, retryAfterMs: 86_400_000 })],
  ];
  it.each(verdicts)("answers what create() makes of the verdict: %s", (_, verdict) => {
    const message = verdictToProto(verdict);
    expect(message).toEqual(expected(verdict));
    expect(Buffer.from(toBinary(VerifyResponseSchema, message))).toEqual(Buffer.from(toBinary(VerifyResponseSchema, expected(verdict))));
    expect(toJsonString(VerifyResponseSchema, message)).toBe(toJsonString(VerifyResponseSchema, expected(verdict)));
  });
});
