/**
 * The caller's deadline (`grpc-timeout`, `connect-timeout-ms`) on the hot
 * methods served by connect-node: when it passes before the call is done, the
 * call is answered DEADLINE_EXCEEDED at once, as the direct lane does
 * (src/rpc/direct-lane.ts). connect-es only aborts the handler's signal.
 */
import { ConnectError } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";

export function deadlineInterceptor(procedures: ReadonlySet<string>): Interceptor {
  return (next) => (req) => {
    if (req.stream || !procedures.has(`${req.service.typeName}/${req.method.name}`)) return next(req);
    const signal = req.signal;
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(ConnectError.from(signal.reason));
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      next(req)
        .then(resolve, reject)
        .finally(() => signal.removeEventListener("abort", onAbort));
    });
  };
}
