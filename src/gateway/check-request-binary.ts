/**
 * What Check needs of Envoy's CheckRequest — method, path, headers, the
 * client's address (see CheckInput) — read straight from the protobuf binary
 * format: no message tree for the dozen header entries and the fields
 * keyward does not read (Envoy sends many more than this project's trimmed
 * attribute_context.proto declares; they are unknown fields here).
 *
 * It answers only where protobuf-es's fromBinary would read the same bytes
 * (and checkInputOf would find the same input): every field known to the
 * schema has its declared wire type, every declared string is valid UTF-8,
 * every unknown field is well-formed and no group. Repeated singular
 * messages merge and the last scalar wins, as protobuf merges them.
 * Anything else — groups, packed or odd encodings, a `__proto__` header —
 * answers null and fromBinary reads the message (and words any error).
 * test/gateways/check-request-binary.test.ts holds it to fromBinary.
 */
import { isUtf8 } from "node:buffer";
import type { RawHeader } from "../domain/credentials.js";
import type { CheckInput } from "./ext-authz.js";
import { checkInputFrom } from "./ext-authz.js";

/** Buffer's native decoder, without `toString`'s argument handling (present on every Node Buffer, untyped). */
type NativeSlices = Buffer & { utf8Slice(start: number, end: number): string };

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** What the read has found so far; messages read twice merge into it. */
interface Found {
  method: string;
  path: string;
  /**
   * HttpRequest.headers (the map Envoy fills unless `encode_raw_headers`), as
   * entries in the order the message's map object would list them: as read,
   * while no name comes twice and none is an array index (which an object
   * lists first); else null, and the map is built as an object.
   */
  entries: RawHeader[] | null;
  headers: Record<string, string>;
  /** HttpRequest.header_map entries. */
  headerMap: { key: string; value: string; rawValue: Uint8Array }[];
  /** Which case Peer.address holds: the source's socket address is the client's. */
  addressCase: "socketAddress" | undefined;
  address: string;
}

class Reader {
  at = 0;
  constructor(readonly buf: Buffer) {}

  /** A varint of at most 32 bits, or -1. */
  uint32(end: number): number {
    let value = 0;
    for (let shift = 0, i = 0; i < 5 && this.at < end; i++, shift += 7) {
      const byte = this.buf[this.at++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value <= 0xffffffff ? value : -1;
    }
    return -1;
  }

  /** Past a varint of up to 10 bytes; false when there is none. */
  skipVarint(end: number): boolean {
    for (let i = 0; i < 10 && this.at < end; i++) if ((this.buf[this.at++] as number) < 0x80) return true;
    return false;
  }

  /** A length-delimited field's end, or -1. */
  delimited(end: number): number {
    const length = this.uint32(end);
    return length < 0 || length > end - this.at ? -1 : this.at + length;
  }

  /** A declared string field, decoded; null when it is not valid UTF-8 (or holds U+FFFD). */
  text(end: number): string | null {
    const stop = this.delimited(end);
    if (stop < 0) return null;
    const text = (this.buf as NativeSlices).utf8Slice(this.at, stop);
    this.at = stop;
    return text.includes("\ufffd") ? null : text;
  }

  /** A declared string field not needed here: checked as fromBinary checks it, not decoded. */
  skipText(end: number): boolean {
    const stop = this.delimited(end);
    if (stop < 0 || !isUtf8(this.buf.subarray(this.at, stop))) return false;
    this.at = stop;
    return true;
  }

  /** Past a field keyward does not declare, by its wire type; false for groups and bad input. */
  skipField(wireType: number, end: number): boolean {
    switch (wireType) {
      case VARINT:
        return this.skipVarint(end);
      case FIXED64:
        return (this.at += 8) <= end;
      case FIXED32:
        return (this.at += 4) <= end;
      case LENGTH_DELIMITED: {
        const stop = this.delimited(end);
        if (stop < 0) return false;
        this.at = stop;
        return true;
      }
      default:
        return false;
    }
  }
}

/** A tag: field number and wire type. */
const tag = (field: number, wireType: number): number => (field << 3) | wireType;

/**
 * The tag of the next field the message declares (`declared`: their
 * numbers), past the fields it does not declare; 0 at the message's end, -1
 * when the bytes are not the common case (a bad tag, a group, a field
 * running past the end).
 */
function nextDeclared(r: Reader, end: number, declared: readonly number[]): number {
  while (r.at < end) {
    const t = r.uint32(end);
    if (t < 8) return -1;
    if (declared.includes(t >>> 3)) return t;
    if (!r.skipField(t & 7, end)) return -1;
  }
  return r.at === end ? 0 : -1;
}

/** The end of a nested message or string field, or -1. */
const nestedEnd = (r: Reader, end: number): number => r.delimited(end);

export function decodeCheckRequest(bytes: Uint8Array): CheckInput | null {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf);
  const found: Found = { method: "", path: "", entries: [], headers: {}, headerMap: [], addressCase: undefined, address: "" };
  // CheckRequest { AttributeContext attributes = 1 }
  if (!throughField(r, buf.length, found, 1, attributes)) return null;
  return checkInputFrom({
    method: found.method,
    path: found.path,
    headers: found.entries ?? found.headers,
    headerMap: found.headerMap,
    addressCase: found.addressCase,
    address: found.address,
  });
}

/** The field numbers each message declares (the rest are unknown fields here). */
const ATTRIBUTE_CONTEXT = [1, 4];
const ONLY_FIELD: Readonly<Record<number, readonly number[]>> = { 1: [1], 2: [2] };
const SOCKET_ADDRESS = [2, 3];
const HTTP_REQUEST = [2, 3, 4, 5, 13];
const HEADER_VALUE = [1, 2, 3];

type MessageReader = (r: Reader, end: number, found: Found) => boolean;

/**
 * A message whose one declared field is the message field `field`, read by
 * `read` each time it comes (as protobuf merges a repeated singular message,
 * or appends a repeated one).
 */
function throughField(r: Reader, end: number, found: Found, field: number, read: MessageReader): boolean {
  const declared = ONLY_FIELD[field] as readonly number[];
  let t: number;
  while ((t = nextDeclared(r, end, declared)) > 0) {
    const stop = t === tag(field, LENGTH_DELIMITED) ? nestedEnd(r, end) : -1;
    if (stop < 0 || !read(r, stop, found)) return false;
  }
  return t === 0;
}

/** AttributeContext { Peer source = 1; Request request = 4 } */
function attributes(r: Reader, end: number, found: Found): boolean {
  let t: number;
  while ((t = nextDeclared(r, end, ATTRIBUTE_CONTEXT)) > 0) {
    const stop = t === tag(1, LENGTH_DELIMITED) || t === tag(4, LENGTH_DELIMITED) ? nestedEnd(r, end) : -1;
    if (stop < 0) return false;
    if (!(t === tag(1, LENGTH_DELIMITED) ? peer(r, stop, found) : request(r, stop, found))) return false;
  }
  return t === 0;
}

/** Peer { Address address = 1 } */
const peer: MessageReader = (r, end, found) => throughField(r, end, found, 1, address);

/** Address { oneof address { SocketAddress socket_address = 1 } } */
const address: MessageReader = (r, end, found) => throughField(r, end, found, 1, socketAddressCase);

/** The oneof's socket_address: merged into the case the oneof already holds (none here but this one). */
const socketAddressCase: MessageReader = (r, end, found) => {
  if (found.addressCase !== "socketAddress") {
    found.addressCase = "socketAddress";
    found.address = "";
  }
  return socketAddress(r, end, found);
};

/** SocketAddress { string address = 2; uint32 port_value = 3 } */
function socketAddress(r: Reader, end: number, found: Found): boolean {
  let t: number;
  while ((t = nextDeclared(r, end, SOCKET_ADDRESS)) > 0) {
    if (t === tag(2, LENGTH_DELIMITED)) {
      const text = r.text(end);
      if (text === null) return false;
      found.address = text;
    } else if (t !== tag(3, VARINT) || !r.skipVarint(end)) {
      return false;
    }
  }
  return t === 0;
}

/** Request { HttpRequest http = 2 } */
const request: MessageReader = (r, end, found) => throughField(r, end, found, 2, httpRequest);

/** HttpRequest { string method = 2; map<string, string> headers = 3; string path = 4; string host = 5; HeaderMap header_map = 13 } */
function httpRequest(r: Reader, end: number, found: Found): boolean {
  let t: number;
  while ((t = nextDeclared(r, end, HTTP_REQUEST)) > 0) {
    if ((t & 7) !== LENGTH_DELIMITED) return false;
    const field = t >>> 3;
    if (field === 2 || field === 4) {
      const text = r.text(end);
      if (text === null) return false;
      if (field === 2) found.method = text;
      else found.path = text;
    } else if (field === 5) {
      if (!r.skipText(end)) return false;
    } else {
      const stop = nestedEnd(r, end);
      if (stop < 0 || !(field === 3 ? headerEntry(r, stop, found) : headerMap(r, stop, found))) return false;
    }
  }
  return t === 0;
}

/** A map entry { string key = 1; string value = 2 }: a field of any other number is left to fromBinary. */
function headerEntry(r: Reader, end: number, found: Found): boolean {
  let key = "";
  let value = "";
  while (r.at < end) {
    const t = r.uint32(end);
    if (t !== tag(1, LENGTH_DELIMITED) && t !== tag(2, LENGTH_DELIMITED)) return false;
    const text = r.text(end);
    if (text === null) return false;
    if (t === tag(1, LENGTH_DELIMITED)) key = text;
    else value = text;
  }
  if (r.at !== end || key === "__proto__") return false;
  const entries = found.entries;
  if (entries !== null) {
    if (!isArrayIndex(key) && !hasKey(entries, key)) {
      entries.push({ name: key, value });
      return true;
    }
    // From here on, the map as protobuf-es builds it: an object.
    for (const entry of entries) found.headers[entry.name] = entry.value;
    found.entries = null;
  }
  found.headers[key] = value;
  return true;
}

function hasKey(entries: readonly RawHeader[], key: string): boolean {
  for (let i = 0; i < entries.length; i++) if ((entries[i] as RawHeader).name === key) return true;
  return false;
}

/** HeaderMap { repeated HeaderValue headers = 1 } */
const headerMap: MessageReader = (r, end, found) => throughField(r, end, found, 1, headerValue);

/** HeaderValue { string key = 1; string value = 2; bytes raw_value = 3 } */
function headerValue(r: Reader, end: number, found: Found): boolean {
  const entry = { key: "", value: "", rawValue: NO_BYTES as Uint8Array };
  found.headerMap.push(entry);
  let t: number;
  while ((t = nextDeclared(r, end, HEADER_VALUE)) > 0) {
    if ((t & 7) !== LENGTH_DELIMITED) return false;
    if (t >>> 3 === 3) {
      const bytesEnd = r.delimited(end);
      if (bytesEnd < 0) return false;
      entry.rawValue = r.buf.subarray(r.at, bytesEnd);
      r.at = bytesEnd;
      continue;
    }
    const text = r.text(end);
    if (text === null) return false;
    if (t >>> 3 === 1) entry.key = text;
    else entry.value = text;
  }
  return t === 0;
}

const NO_BYTES = new Uint8Array(0);
/** A key a JavaScript object may list before the others, in numeric order (a few more, to be safe). */
const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;
const isArrayIndex = (key: string): boolean => {
  const first = key.charCodeAt(0);
  return first >= 0x30 && first <= 0x39 && ARRAY_INDEX.test(key);
};
