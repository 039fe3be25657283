/**
 * Input rules shared by every transport. Values arrive already typed (proto or
 * checked JSON); these check their content and return the cleaned value.
 */
import type { RateLimitPlan } from "./api-key.js";
import type { CreditTerms } from "./credits.js";
import { MAX_CREDITS, REFILL_INTERVALS } from "./credits.js";
import { invalidArgument } from "./errors.js";
import { MAX_IP_ALLOWLIST_ENTRIES, normalizeIpAllowlist } from "./ip-allowlist.js";

/** Organization, workspace and key ids. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** A UUID in any case (sender ids, key ids). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Scopes: free strings, but safe in a header value (no quotes, spaces or CR/LF). */
export const SCOPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:\/*-]{0,99}$/;

export const NAME_MAX_LENGTH = 200;
export const MAX_SCOPES = 50;

/**
 * Metadata on a key (string -> string): at most 32 entries; keys 1-64
 * characters of A-Z a-z 0-9 _ -, starting with a letter or digit (safe as a
 * document field name); values at most 512 characters.
 */
export const METADATA_LIMITS = { maxEntries: 32, maxKeyLength: 64, maxValueLength: 512 } as const;
export const METADATA_KEY_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_-]{0,${METADATA_LIMITS.maxKeyLength - 1}}$`);

/** Organization, workspace and key ids: 1-128 chars of [A-Za-z0-9._:-]. */
export function checkId(field: string, value: string): string {
  if (!ID_PATTERN.test(value)) {
    throw invalidArgument(field, "must be 1-128 characters of A-Z a-z 0-9 . _ : -");
  }
  return value;
}

/** C0/C1 controls (NUL, newlines, escapes): never part of a name a person reads. */
const CONTROL = /\p{Cc}/u;
/** At least one character that is not a separator, control, format mark or unassigned. */
const VISIBLE = /[^\p{Z}\p{C}]/u;

/**
 * A name is trimmed before it is stored, but its length is checked as sent:
 * the published schema's `maxLength` counts what the client wrote, so 200
 * characters plus surrounding whitespace is too long, not silently shortened.
 */
export function checkName(value: string): string {
  if ([...value].length > NAME_MAX_LENGTH) {
    throw invalidArgument("name", `must be at most ${NAME_MAX_LENGTH} characters`);
  }
  const name = value.trim();
  if (CONTROL.test(name)) throw invalidArgument("name", "cannot hold control characters");
  if (!VISIBLE.test(name)) throw invalidArgument("name", "cannot be empty or only whitespace or invisible characters");
  return name;
}

/** Scopes are free strings; duplicates are dropped, order kept. */
export function checkScopes(values: readonly string[]): string[] {
  if (values.length > MAX_SCOPES) {
    throw invalidArgument("scopes", `at most ${MAX_SCOPES} scopes`);
  }
  for (const scope of values) {
    if (!SCOPE_PATTERN.test(scope)) {
      throw invalidArgument("scopes", "each scope is 1-100 characters of A-Z a-z 0-9 . _ : / * -");
    }
  }
  return [...new Set(values)];
}

export function checkMetadata(values: Readonly<Record<string, string>>): Record<string, string> {
  const { maxEntries, maxKeyLength, maxValueLength } = METADATA_LIMITS;
  const entries = Object.entries(values);
  if (entries.length > maxEntries) {
    throw invalidArgument("metadata", `at most ${maxEntries} entries`);
  }
  for (const [key, value] of entries) {
    if (!METADATA_KEY_PATTERN.test(key)) {
      throw invalidArgument("metadata", `keys are 1-${maxKeyLength} characters of A-Z a-z 0-9 _ -, starting with a letter or digit`);
    }
    if ([...value].length > maxValueLength) {
      throw invalidArgument("metadata", `values are at most ${maxValueLength} characters`);
    }
  }
  return Object.fromEntries(entries);
}

export function checkWorkspaces(values: readonly string[]): string[] {
  if (values.length > 1000) throw invalidArgument("workspaces", "at most 1000 workspaces");
  return [...new Set(values.map((w) => checkId("workspaces", w)))];
}

/** Checks a rate-limit plan: 1..10^9 units per 1 s..1 day. */
export function checkPlan(field: string, plan: RateLimitPlan): RateLimitPlan {
  if (!Number.isInteger(plan.limit) || plan.limit < 1 || plan.limit > 1_000_000_000) {
    throw invalidArgument(field, "limit must be between 1 and 1000000000");
  }
  if (!Number.isInteger(plan.windowMs) || plan.windowMs < 1000 || plan.windowMs > 86_400_000) {
    throw invalidArgument(field, "window must be between 1 second and 1 day, in whole milliseconds");
  }
  return { limit: plan.limit, windowMs: plan.windowMs };
}

/** IPv4/IPv6 addresses and CIDRs, at most 100, normalized (`10.1.2.3/8` → `10.0.0.0/8`, `::ffff:1.2.3.4` → `1.2.3.4`). */
export function checkIpAllowlist(values: readonly string[]): string[] {
  if (values.length > MAX_IP_ALLOWLIST_ENTRIES) {
    throw invalidArgument("ip_allowlist", `at most ${MAX_IP_ALLOWLIST_ENTRIES} entries`);
  }
  const result = normalizeIpAllowlist(values);
  if (!result.ok) {
    throw invalidArgument("ip_allowlist", `${JSON.stringify(result.invalid.slice(0, 80))} is not an IPv4 or IPv6 address or CIDR`);
  }
  return result.entries;
}

/** Remaining uses 0..10^12; a refill of 1..10^12 credits, daily or monthly. */
export function checkCredits(terms: CreditTerms): CreditTerms {
  if (!Number.isSafeInteger(terms.remaining) || terms.remaining < 0 || terms.remaining > MAX_CREDITS) {
    throw invalidArgument("credits.remaining", `must be an integer from 0 to ${MAX_CREDITS}`);
  }
  if (terms.refill === null) return { remaining: terms.remaining, refill: null };
  const { interval, amount } = terms.refill;
  if (!REFILL_INTERVALS.includes(interval)) {
    throw invalidArgument("credits.refill.interval", "must be daily or monthly");
  }
  if (!Number.isSafeInteger(amount) || amount < 1 || amount > MAX_CREDITS) {
    throw invalidArgument("credits.refill.amount", `must be an integer from 1 to ${MAX_CREDITS}`);
  }
  return { remaining: terms.remaining, refill: { interval, amount } };
}
