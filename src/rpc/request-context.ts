/**
 * The request context of an RPC: which service token called (set by the
 * service-token check), the request id and the client's address (set by the
 * node handler), carried to the handlers in connect's context values.
 */
import { createContextKey, createContextValues } from "@connectrpc/connect";
import type { ContextValues, HandlerContext } from "@connectrpc/connect";
import type { RequestContext } from "../domain/request-context.js";

/** `token-N`: the N-th of the configured service tokens; `development` when none is required. */
export const SERVICE_TOKEN_ID = createContextKey("development", { description: "keyward service token id" });
const REQUEST_ID = createContextKey("", { description: "keyward request id" });
const CLIENT_IP = createContextKey("", { description: "keyward client ip" });

/** The context values a call starts with. */
export function callContextValues(requestId: string, clientIp: string): ContextValues {
  return createContextValues().set(REQUEST_ID, requestId).set(CLIENT_IP, clientIp);
}

/** The request id a call was given (see callContextValues). */
export function requestIdOf(values: ContextValues): string {
  return values.get(REQUEST_ID);
}

/** The request context of a call: RPC callers are internal services, acting for any organization. */
export function requestContextOf(ctx: HandlerContext): RequestContext {
  return {
    actor: { type: "service", id: ctx.values.get(SERVICE_TOKEN_ID) },
    requestId: ctx.values.get(REQUEST_ID),
    clientIp: ctx.values.get(CLIENT_IP),
  };
}
