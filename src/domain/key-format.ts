/**
 * The API key format: `sk_{live|test}_<body><checksum>`.
 *
 * body: 32 bytes from a CSPRNG in base62, left-padded to 43 characters.
 * checksum: CRC32 of everything before it, base62, left-padded to 6 characters
 * (GitHub's token scheme): a typo or a truncated copy is caught before any I/O,
 * and secret scanners can match the published regex with few false positives.
 */
import { hash, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import type { Mode } from "./api-key.js";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_LENGTH = 43; // ceil(256 / log2(62))
const CHECKSUM_LENGTH = 6; // 62^6 > 2^32
const PREFIX_LENGTH = "sk_live_".length;

/** Total length of a key string. */
export const KEY_LENGTH = PREFIX_LENGTH + BODY_LENGTH + CHECKSUM_LENGTH;

/** The regex published for secret scanners (also in the README). */
export const KEY_PATTERN = /^sk_(live|test)_[0-9A-Za-z]{49}$/;

function toBase62(value: bigint, width: number): string {
  let out = "";
  let rest = value;
  while (rest > 0n) {
    out = ALPHABET[Number(rest % 62n)] + out;
    rest /= 62n;
  }
  return out.padStart(width, "0");
}

function checksumOf(prefixAndBody: string): string {
  return toBase62(BigInt(crc32(prefixAndBody)), CHECKSUM_LENGTH);
}

function prefixOf(mode: Mode): string {
  return mode === "live" ? "sk_live_" : "sk_test_";
}

/** A freshly generated key: the plaintext (shown once) and what is stored. */
export interface GeneratedKey {
  plaintext: string;
  hash: string;
  hint: string;
}

/** Generates a new key of the given mode from 32 CSPRNG bytes. */
export function generateKey(mode: Mode): GeneratedKey {
  const body = toBase62(BigInt("0x" + randomBytes(32).toString("hex")), BODY_LENGTH);
  const head = prefixOf(mode) + body;
  const plaintext = head + checksumOf(head);
  return { plaintext, hash: hashKey(plaintext), hint: hintOf(plaintext) };
}

/**
 * sha256 of the whole key string, hex: the only form stored at rest. One-shot
 * `crypto.hash`, not `createHash`: a Hash object per Verify is a native handle
 * each full GC must clear (milliseconds of pause at thousands of calls/s).
 */
export function hashKey(plaintext: string): string {
  return hash("sha256", plaintext, "hex");
}

/** `sk_live_` + first 4 of the body + `…` + last 4 of the key. */
export function hintOf(plaintext: string): string {
  return (
    plaintext.slice(0, PREFIX_LENGTH + 4) + "…" + plaintext.slice(plaintext.length - 4)
  );
}

/** Why a string is not a well-formed key. */
export type KeyFormatError = "prefix" | "length" | "alphabet" | "checksum";

export type ParsedKey =
  | { ok: true; mode: Mode; plaintext: string }
  | { ok: false; reason: KeyFormatError };

/**
 * Checks prefix, length, alphabet and checksum, in that order, without I/O.
 * Only a key that passes is worth a storage lookup.
 */
export function parseKey(candidate: string): ParsedKey {
  let mode: Mode;
  if (candidate.startsWith("sk_live_")) mode = "live";
  else if (candidate.startsWith("sk_test_")) mode = "test";
  else return { ok: false, reason: "prefix" };
  if (candidate.length !== KEY_LENGTH) return { ok: false, reason: "length" };
  if (!KEY_PATTERN.test(candidate)) return { ok: false, reason: "alphabet" };
  const head = candidate.slice(0, KEY_LENGTH - CHECKSUM_LENGTH);
  if (checksumOf(head) !== candidate.slice(KEY_LENGTH - CHECKSUM_LENGTH)) {
    return { ok: false, reason: "checksum" };
  }
  return { ok: true, mode, plaintext: candidate };
}
