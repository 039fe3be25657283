/**
 * Strict readers for untrusted JSON: a body is a plain object with only the
 * fields a route knows, each of the right JSON type. Objects are never passed
 * on where a string is expected, so operators like `{"$gt": ""}` cannot reach
 * a query.
 */
import { badRequest } from "./problem.js";

export type JsonObject = Readonly<Record<string, unknown>>;

/** The body as an object with no field outside `known`. */
/** What an unknown field's name must look like to be echoed in an error. */
const FIELD_NAME = /^(?!sk_)[A-Za-z][A-Za-z0-9_]{0,31}$/;

export function readObject(value: unknown, known: readonly string[], what = "request body"): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest(what, "must be a JSON object");
  }
  const unknown = Object.keys(value).filter((field) => !known.includes(field));
  if (unknown.length > 0) {
    // Echo a name only when it looks like a field name: a pasted key or token must never come back.
    const names = unknown.slice(0, 5).map((field) => (FIELD_NAME.test(field) ? JSON.stringify(field) : "(a field not shown)"));
    throw badRequest(what, `unknown field${unknown.length > 1 ? "s" : ""} ${names.join(", ")} (known: ${known.join(", ")})`);
  }
  return value as JsonObject;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function wrongType(field: string, expected: string, value: unknown): never {
  throw badRequest(field, `must be ${expected}, got ${typeName(value)}`);
}

export function optionalString(body: JsonObject, field: string): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== "string") wrongType(field, "a string", value);
  return value;
}

/** A string, null (explicitly none), or absent. */
export function optionalNullableString(body: JsonObject, field: string): string | null | undefined {
  const value = body[field];
  if (value === undefined || value === null) return value;
  if (typeof value !== "string") wrongType(field, "a string or null", value);
  return value;
}

export function optionalBoolean(body: JsonObject, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") wrongType(field, "true or false", value);
  return value;
}

export function optionalEnum<T extends string>(body: JsonObject, field: string, allowed: readonly T[]): T | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw badRequest(field, `must be one of ${allowed.map((v) => `"${v}"`).join(", ")}`);
  }
  return value as T;
}

export function optionalStringArray(body: JsonObject, field: string): string[] | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) wrongType(field, "an array of strings", value);
  for (const item of value) {
    if (typeof item !== "string") wrongType(field, "an array of strings", item);
  }
  return value as string[];
}

/** A JSON object of string values (`{"team": "core"}`), or absent. */
export function optionalStringMap(body: JsonObject, field: string): Record<string, string> | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) wrongType(field, "an object of strings", value);
  for (const item of Object.values(value)) {
    if (typeof item !== "string") wrongType(field, "an object of strings", item);
  }
  return value as Record<string, string>;
}

export function optionalInteger(body: JsonObject, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw badRequest(field, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/i;

/** An ISO 8601 date-time with a zone (RFC 3339), e.g. `2030-01-31T12:00:00Z`; null or absent: none. */
export function optionalDateTime(body: JsonObject, field: string): Date | null | undefined {
  const value = body[field];
  if (value === undefined || value === null) return value;
  if (typeof value !== "string") wrongType(field, "an ISO 8601 date-time string or null", value);
  return readDateTime(field, value);
}

/** An ISO 8601 date-time with a zone (RFC 3339), from a body field or a query parameter. */
export function readDateTime(field: string, value: string): Date {
  const date = parseDateTime(value);
  if (!date) throw badRequest(field, "must be an ISO 8601 date-time with a time zone, like 2030-01-31T12:00:00Z");
  return date;
}

function parseDateTime(value: string): Date | null {
  const match = ISO_8601.exec(value);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number, number, number, number, number, number,
  ];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const offsetHours = match[9] === undefined ? 0 : Number(match[9]);
  const offsetMinutes = match[10] === undefined ? 0 : Number(match[10]);
  if (
    month < 1 || month > 12 || day < 1 || day > daysInMonth ||
    hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59
  ) {
    return null;
  }
  const time = Date.parse(value);
  return Number.isFinite(time) ? new Date(time) : null;
}
