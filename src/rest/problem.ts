/**
 * Errors of the REST shim as RFC 9457 problem details
 * (`application/problem+json`: type, title, status, detail, code). The one
 * place where use-case errors become HTTP statuses.
 */
import { STATUS_CODES } from "node:http";
import type { Logger } from "pino";
import { AppError } from "../domain/errors.js";
import type { AppErrorCode } from "../domain/errors.js";

export const PROBLEM_JSON = "application/problem+json";

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

/** An error the REST layer answers as a problem, with optional extra headers. */
export class RestProblem extends Error {
  override readonly name = "RestProblem";

  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }

  get body(): ProblemBody {
    return { type: "about:blank", title: STATUS_CODES[this.status] ?? "Error", status: this.status, detail: this.detail, code: this.code };
  }
}

/** A 400 about one field of the request. */
export function badRequest(field: string, message: string): RestProblem {
  return new RestProblem(400, "invalid_argument", `${field}: ${message}`);
}

const STATUSES: Readonly<Record<AppErrorCode, number>> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  insufficient_privilege: 403,
  not_found: 404,
  failed_precondition: 409,
  unavailable: 503,
};

/** Use cases name fields as the proto does; REST clients know them in camelCase. */
const REST_FIELD_NAMES: Readonly<Record<string, string>> = {
  organization_id: "organizationId",
  workspace_id: "workspaceId",
  expires_at: "expiresAt",
  grace_period: "gracePeriodSeconds",
  page_token: "cursor",
  ip_allowlist: "ipAllowlist",
};

/** A dependency is down: worth retrying shortly. */
const RETRY_SOON = { "retry-after": "1" };

/** Any error as the problem a client sees; internals never leak. */
export function toRestProblem(error: unknown, logger: Logger): RestProblem {
  if (error instanceof RestProblem) return error;
  if (error instanceof AppError) {
    if (error.cause !== undefined) logger.warn({ err: error.cause }, error.message);
    const renamed = error.field ? REST_FIELD_NAMES[error.field] : undefined;
    const detail =
      renamed && error.field && error.message.startsWith(`${error.field}:`)
        ? renamed + error.message.slice(error.field.length)
        : error.message;
    const status = STATUSES[error.code];
    return new RestProblem(status, error.code, detail, status === 503 ? RETRY_SOON : {});
  }
  logger.error({ err: error }, "rest handler failed");
  return new RestProblem(500, "internal", "internal error");
}

/** Node's parser errors that are a client's fault, as the status to answer. */
const FRAMING_STATUSES: Readonly<Record<string, number>> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_HEADERS_TIMEOUT: 408,
};

/**
 * The raw HTTP answer to a request Node's parser refused (malformed framing,
 * too many or too large headers, a request that took too long): a
 * problem+json like every other error, then the connection closes.
 */
export function framingErrorResponse(error: NodeJS.ErrnoException): string {
  const status = FRAMING_STATUSES[error.code ?? ""] ?? 400;
  const detail =
    status === 431 ? "request headers too large or too many (at most 1000)"
    : status === 408 ? "request took too long to arrive"
    : "malformed HTTP request";
  const body = JSON.stringify(new RestProblem(status, status === 400 ? "bad_request" : status === 431 ? "headers_too_large" : "request_timeout", detail).body);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
    `content-type: ${PROBLEM_JSON}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}
