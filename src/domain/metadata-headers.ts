/**
 * A key's metadata as headers for the upstream behind a gateway
 * (`X-Keyward-Meta-<key>`), for the metadata keys an operator chose to
 * forward (KEYWARD_FORWARD_METADATA). Pure: no I/O.
 */
import { METADATA_KEY_PATTERN, METADATA_LIMITS } from "./validation.js";
import type { HttpHeader } from "./verdict.js";

export const METADATA_HEADER_PREFIX = "X-Keyward-Meta-";

/**
 * One header per forwarded key, always — empty when the key has no such
 * metadata — so a copy the client sent is always overwritten, never passed
 * on. Values are percent-encoded (UTF-8) except visible ASCII other than
 * `%`, so any value is a safe header value and `decodeURIComponent` gives
 * it back.
 */
export function metadataHeaders(metadata: Readonly<Record<string, string>>, forwarded: readonly string[]): HttpHeader[] {
  return forwarded.map((key) => ({
    name: `${METADATA_HEADER_PREFIX}${key}`,
    value: Object.hasOwn(metadata, key) ? headerSafe(metadata[key] ?? "") : "",
  }));
}

const VISIBLE_ASCII_BUT_PERCENT = /^[\x21-\x24\x26-\x7e]*$/;

function headerSafe(value: string): string {
  if (VISIBLE_ASCII_BUT_PERCENT.test(value)) return value;
  let out = "";
  for (const char of value) out += /^[\x21-\x24\x26-\x7e]$/.test(char) ? char : encodeURIComponent(char);
  return out;
}

/**
 * The metadata keys to forward, from a comma-separated list: each a valid
 * metadata key, no two the same header (header names ignore case). Throws
 * an Error naming the first bad one.
 */
export function parseForwardedMetadataKeys(raw: string): string[] {
  const keys = raw.split(",").map((key) => key.trim()).filter((key) => key !== "");
  if (keys.length > METADATA_LIMITS.maxEntries) throw new Error(`at most ${METADATA_LIMITS.maxEntries} keys`);
  const seen = new Set<string>();
  for (const key of keys) {
    if (!METADATA_KEY_PATTERN.test(key)) {
      throw new Error(`"${key.slice(0, 64)}" is not a metadata key (1-${METADATA_LIMITS.maxKeyLength} characters of A-Z a-z 0-9 _ -)`);
    }
    if (seen.has(key.toLowerCase())) throw new Error(`"${key}" is named twice (header names ignore case)`);
    seen.add(key.toLowerCase());
  }
  return keys;
}
