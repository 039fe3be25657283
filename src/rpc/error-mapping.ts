import { Code, ConnectError } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { AppError } from "../domain/errors.js";
import type { AppErrorCode } from "../domain/errors.js";

const CODES: Readonly<Record<AppErrorCode, Code>> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  failed_precondition: Code.FailedPrecondition,
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  insufficient_privilege: Code.PermissionDenied,
  unavailable: Code.Unavailable,
};

/** Any error as the ConnectError a client sees; internals never leak. */
export function toConnectError(error: unknown, logger: Logger): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof AppError) {
    if (error.cause !== undefined) logger.warn({ err: error.cause }, error.message);
    return new ConnectError(error.message, CODES[error.code]);
  }
  logger.error({ err: error }, "unexpected error");
  return new ConnectError("internal error", Code.Internal);
}

/** Maps use-case errors to RPC codes in one place. */
export function errorMappingInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      throw toConnectError(error, logger);
    }
  };
}
