/**
 * The RPC port's access log and request metrics: one entry per call, with
 * its procedure, RPC code and, for Verify, the verdict with its key and
 * organization. Outermost, so calls refused for a missing service token are
 * counted too.
 */
import { ConnectError } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { isMessage } from "@bufbuild/protobuf";
import { VerifyCode, VerifyResponseSchema } from "../../gen/authn/v1/auth_pb.js";
import type { AccessEntry, AccessLog } from "../edge/access-log.js";
import { requestIdOf } from "./request-context.js";

export function accessInterceptor(logAccess: AccessLog): Interceptor {
  return (next) => async (req) => {
    const startedAt = performance.now();
    const entry: AccessEntry = {
      requestId: requestIdOf(req.contextValues),
      transport: "rpc",
      method: req.requestMethod,
      route: `${req.service.typeName}/${req.method.name}`,
      status: "ok",
    };
    try {
      const res = await next(req);
      if (!res.stream && isMessage(res.message, VerifyResponseSchema)) {
        const verdict = res.message;
        entry.verdict = VerifyCode[verdict.code];
        entry.keyId = verdict.keyId;
        entry.organizationId = verdict.organizationId;
      }
      return res;
    } catch (error) {
      entry.status = codeToString(ConnectError.from(error).code);
      throw error;
    } finally {
      logAccess(entry, startedAt);
    }
  };
}
