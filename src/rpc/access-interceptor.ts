/**
 * The RPC port's access log and request metrics: one entry per call, with
 * its procedure, RPC code and, for Verify, the verdict with its key and
 * organization. Outermost, so calls refused for a missing service token are
 * counted too. The direct lane (src/rpc/direct-lane.ts) writes the same
 * entries through `rpcAccessEntry`.
 */
import { ConnectError } from "@connectrpc/connect";
import type { Code } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { isMessage } from "@bufbuild/protobuf";
import type { DescMethod } from "@bufbuild/protobuf";
import { VerifyCode, VerifyResponseSchema } from "../../gen/authn/v1/auth_pb.js";
import type { AccessEntry, AccessLog } from "../edge/access-log.js";
import { requestIdOf } from "./request-context.js";

/** The access entry of one RPC: its procedure, code and, for Verify, the verdict. */
/** `code` undefined: the call succeeded. */
export function rpcAccessEntry(requestId: string, method: DescMethod, code: Code | undefined, output: unknown): AccessEntry {
  const entry: AccessEntry = {
    requestId,
    transport: "rpc",
    method: "POST",
    route: `${method.parent.typeName}/${method.name}`,
    status: code === undefined ? "ok" : codeToString(code),
  };
  if (isMessage(output, VerifyResponseSchema)) {
    entry.verdict = VerifyCode[output.code];
    entry.keyId = output.keyId;
    entry.organizationId = output.organizationId;
  }
  return entry;
}

export function accessInterceptor(logAccess: AccessLog): Interceptor {
  return (next) => async (req) => {
    const startedAt = performance.now();
    const requestId = requestIdOf(req.contextValues);
    let code: Code | undefined;
    let output: unknown;
    try {
      const res = await next(req);
      if (!res.stream) output = res.message;
      return res;
    } catch (error) {
      code = ConnectError.from(error).code;
      throw error;
    } finally {
      logAccess({ ...rpcAccessEntry(requestId, req.method, code, output), method: req.requestMethod }, startedAt);
    }
  };
}
