/**
 * IP allowlists: IPv4/IPv6 addresses and CIDRs, normalized once when a key
 * is written, compiled once into numeric ranges per key record, and matched
 * on the Verify path by comparing numbers only. IPv4-mapped IPv6 addresses
 * (`::ffff:1.2.3.4`) are IPv4. Pure: no I/O.
 */
import { isIPv6 } from "node:net";

/** The most entries one key's allowlist holds. */
export const MAX_IP_ALLOWLIST_ENTRIES = 100;
/** Longer than any address with a prefix (`ffff:…:255.255.255.255/128`): refused before parsing. */
const MAX_ENTRY_LENGTH = 64;

/** An address: IPv4 as a 32-bit number, IPv6 as a 128-bit bigint. */
export type IpAddress = { family: 4; value: number } | { family: 6; value: bigint };

/** An inclusive range of one family's addresses. */
export type IpRange = { family: 4; first: number; last: number } | { family: 6; first: bigint; last: bigint };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const V6_ALL = (1n << 128n) - 1n;

function ipv4Value(text: string): number | null {
  const match = IPV4.exec(text);
  if (!match) return null;
  return ((Number(match[1]) << 24) | (Number(match[2]) << 16) | (Number(match[3]) << 8) | Number(match[4])) >>> 0;
}

/** An IPv6 address (any valid spelling, embedded IPv4 included) as a bigint; zones are refused. */
function ipv6Value(text: string): bigint | null {
  if (!isIPv6(text) || text.includes("%")) return null;
  let head = text;
  let tailV4: number | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    tailV4 = ipv4Value(text.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left = "", right] = head.split("::");
  const leftGroups = left === "" ? [] : left.split(":");
  const rightGroups = right === undefined || right === "" ? [] : right.split(":");
  const missing = 8 - leftGroups.length - rightGroups.length;
  const groups = right === undefined ? leftGroups : [...leftGroups, ...Array<string>(missing).fill("0"), ...rightGroups];
  if (groups.length !== 8) return null;
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  if (tailV4 !== null) value = (value & ~0xffffffffn) | BigInt(tailV4);
  return value;
}

/** An address as written by a client, or null when it is not one. IPv4-mapped IPv6 is IPv4. */
export function parseIpAddress(text: string): IpAddress | null {
  if (text.length === 0 || text.length > MAX_ENTRY_LENGTH) return null;
  const address = parseWritten(text);
  if (address?.family === 6 && address.value >> 32n === 0xffffn) return { family: 4, value: Number(address.value & 0xffffffffn) };
  return address;
}

/** A range from its first address and prefix length (host bits are cleared). */
function rangeOf(address: IpAddress, prefix: number): IpRange {
  if (address.family === 4) {
    const size = 2 ** (32 - prefix);
    const first = Math.floor(address.value / size) * size;
    return { family: 4, first, last: first + size - 1 };
  }
  const hostMask = (1n << BigInt(128 - prefix)) - 1n;
  const first = address.value & (V6_ALL ^ hostMask);
  return { family: 6, first, last: first | hostMask };
}

/** An address exactly as written (an IPv4-mapped one stays IPv6). */
function parseWritten(text: string): IpAddress | null {
  const v4 = ipv4Value(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = ipv6Value(text);
  return v6 === null ? null : { family: 6, value: v6 };
}

/** One allowlist entry (`1.2.3.4`, `10.0.0.0/8`, `2001:db8::/32`, `::ffff:1.2.3.0/120`) as a range, or null. */
export function parseIpRange(entry: string): IpRange | null {
  if (entry.length === 0 || entry.length > MAX_ENTRY_LENGTH) return null;
  const slash = entry.indexOf("/");
  const addressText = slash === -1 ? entry : entry.slice(0, slash);
  const prefixText = slash === -1 ? null : entry.slice(slash + 1);
  const written = parseWritten(addressText);
  if (!written) return null;
  const bits = written.family === 4 ? 32 : 128;
  let prefix = bits;
  if (prefixText !== null) {
    if (!/^(0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > bits) return null;
    prefix = Number(prefixText);
  }
  // IPv4-mapped IPv6 (::ffff:0:0/96) is IPv4.
  if (written.family === 6 && written.value >> 32n === 0xffffn && prefix >= 96) {
    return rangeOf({ family: 4, value: Number(written.value & 0xffffffffn) }, prefix - 96);
  }
  return rangeOf(written, prefix);
}

function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** How a range is written: the address alone for a single one, else `network/prefix`. */
export function formatIpRange(range: IpRange): string {
  if (range.family === 4) {
    const size = range.last - range.first + 1;
    const text = formatIpv4(range.first);
    return size === 1 ? text : `${text}/${32 - Math.log2(size)}`;
  }
  const hostBits = (range.last - range.first).toString(2).replace(/^0$/, "").length;
  const text = formatIpv6(range.first);
  return hostBits === 0 ? text : `${text}/${128 - hostBits}`;
}

/**
 * Checks and normalizes an allowlist: each entry as a range in its canonical
 * spelling, duplicates dropped, order kept. Answers the first entry that is
 * not an address or CIDR as `invalid`.
 */
export function normalizeIpAllowlist(entries: readonly string[]): { ok: true; entries: string[] } | { ok: false; invalid: string } {
  const normalized: string[] = [];
  for (const entry of entries) {
    const range = parseIpRange(entry.trim());
    if (!range) return { ok: false, invalid: entry };
    normalized.push(formatIpRange(range));
  }
  return { ok: true, entries: [...new Set(normalized)] };
}

/** An allowlist compiled into ranges, per family: what Verify matches against. */
export interface IpMatcher {
  v4: ReadonlyArray<{ first: number; last: number }>;
  v6: ReadonlyArray<{ first: bigint; last: bigint }>;
}

/** Compiles normalized entries (entries that do not parse are skipped: nothing matches them). */
export function compileIpAllowlist(entries: readonly string[]): IpMatcher {
  const v4: Array<{ first: number; last: number }> = [];
  const v6: Array<{ first: bigint; last: bigint }> = [];
  for (const entry of entries) {
    const range = parseIpRange(entry);
    if (range?.family === 4) v4.push({ first: range.first, last: range.last });
    else if (range?.family === 6) v6.push({ first: range.first, last: range.last });
  }
  return { v4, v6 };
}

/**
 * Compiled allowlists by the entries array they came from: a cached key
 * record keeps its array, so its allowlist is parsed once, not per Verify.
 */
const compiled = new WeakMap<readonly string[], IpMatcher>();

/** The compiled form of a record's allowlist, parsed on first use only. */
export function ipMatcherOf(entries: readonly string[]): IpMatcher {
  let matcher = compiled.get(entries);
  if (!matcher) {
    matcher = compileIpAllowlist(entries);
    compiled.set(entries, matcher);
  }
  return matcher;
}

/** Whether the address is in one of the ranges: number comparisons only. */
export function ipAllowed(matcher: IpMatcher, address: IpAddress): boolean {
  if (address.family === 4) {
    for (const range of matcher.v4) if (address.value >= range.first && address.value <= range.last) return true;
    return false;
  }
  for (const range of matcher.v6) if (address.value >= range.first && address.value <= range.last) return true;
  return false;
}

/**
 * Whether every address `inner` allows is one `outer` allows. An empty list
 * allows every address: nothing but an empty list is within it, and it is
 * within nothing else.
 */
export function allowlistWithin(inner: readonly string[], outer: readonly string[]): boolean {
  if (outer.length === 0) return true;
  if (inner.length === 0) return false;
  const allowed = merged(compileIpAllowlist(outer));
  const wanted = compileIpAllowlist(inner);
  const covered = <T extends number | bigint>(ranges: ReadonlyArray<Span<T>>, cover: ReadonlyArray<Span<T>>) =>
    ranges.every((r) => cover.some((c) => c.first <= r.first && r.last <= c.last));
  return covered(wanted.v4, allowed.v4) && covered(wanted.v6, allowed.v6);
}

type Span<T> = { first: T; last: T };

/** The same addresses as sorted, coalesced ranges (adjacent or overlapping ones joined). */
function merged(matcher: IpMatcher): IpMatcher {
  return { v4: coalesce(matcher.v4, (n) => n + 1), v6: coalesce(matcher.v6, (n) => n + 1n) };
}

function coalesce<T extends number | bigint>(ranges: ReadonlyArray<Span<T>>, next: (value: T) => T): Array<Span<T>> {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: Array<Span<T>> = [];
  for (const range of sorted) {
    const previous = out.at(-1);
    if (previous && range.first <= next(previous.last)) {
      if (range.last > previous.last) previous.last = range.last;
    } else {
      out.push({ ...range });
    }
  }
  return out;
}
