/**
 * The one typed application error. Transports map `code` to their own status
 * (ConnectRPC Code, HTTP status) in one place each.
 */
export type AppErrorCode =
  | "invalid_argument"
  | "not_found"
  | "failed_precondition"
  | "unauthenticated"
  | "permission_denied"
  /** A credential asked for more than it holds (REST 403 `insufficient_privilege`). */
  | "insufficient_privilege"
  | "unavailable";

export class AppError extends Error {
  override readonly name = "AppError";

  constructor(
    readonly code: AppErrorCode,
    message: string,
    /** The request field at fault, when there is one. */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function invalidArgument(field: string, message: string): AppError {
  return new AppError("invalid_argument", `${field}: ${message}`, field);
}

export function notFound(what: string): AppError {
  return new AppError("not_found", `${what} not found`);
}

export function insufficientPrivilege(reason: string): AppError {
  return new AppError("insufficient_privilege", reason);
}

/** A dependency failed; `cause` is the original error, for the log only. */
export function unavailable(message: string, cause: unknown): AppError {
  return new AppError("unavailable", message, undefined, { cause });
}
