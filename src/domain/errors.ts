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
  | "unavailable";

export class AppError extends Error {
  override readonly name = "AppError";

  constructor(
    readonly code: AppErrorCode,
    message: string,
    /** The request field at fault, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export function invalidArgument(field: string, message: string): AppError {
  return new AppError("invalid_argument", `${field}: ${message}`, field);
}

export function notFound(what: string): AppError {
  return new AppError("not_found", `${what} not found`);
}
