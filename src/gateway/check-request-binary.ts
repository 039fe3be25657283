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
  /** HttpRequest.headers (the map Envoy fills unless `encode_raw_headers`). */
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
  skip(wireType: number, end: number): boolean {
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

/**
 * Reads the fields of one message up to `end`: `field` handles the ones the
 * schema declares (false: not the common case), the rest are skipped.
 */
function fields(r: Reader, end: number, field: (number: number, wireType: number, end: number) => boolean | undefined): boolean {
  while (r.at < end) {
    const tag = r.uint32(end);
    if (tag <= 0 || tag >>> 3 === 0) return false;
    const handled = field(tag >>> 3, tag & 7, end);
    if (handled === false) return false;
    if (handled === undefined && !r.skip(tag & 7, end)) return false;
  }
  return r.at === end;
}

/** A declared message field: its bytes, read by `read`. */
function nested(r: Reader, wireType: number, end: number, read: (end: number) => boolean): boolean {
  if (wireType !== LENGTH_DELIMITED) return false;
  const stop = r.delimited(end);
  return stop >= 0 && read(stop);
}

export function decodeCheckRequest(bytes: Uint8Array): CheckInput | null {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf);
  const found: Found = { method: "", path: "", headers: {}, headerMap: [], addressCase: undefined, address: "" };
  // CheckRequest { AttributeContext attributes = 1 }
  const ok = fields(r, buf.length, (no, wt, end) => (no === 1 ? nested(r, wt, end, (stop) => attributes(r, stop, found)) : undefined));
  return ok ? checkInputFrom(found) : null;
}

/** AttributeContext { Peer source = 1; Request request = 4 } */
function attributes(r: Reader, end: number, found: Found): boolean {
  return fields(r, end, (no, wt, stop) => {
    if (no === 1) return nested(r, wt, stop, (e) => peer(r, e, found));
    if (no === 4) return nested(r, wt, stop, (e) => request(r, e, found));
    return undefined;
  });
}

/** Peer { Address address = 1 }; Address { oneof address { SocketAddress socket_address = 1 } } */
function peer(r: Reader, end: number, found: Found): boolean {
  return fields(r, end, (no, wt, stop) =>
    no === 1
      ? nested(r, wt, stop, (e) =>
          fields(r, e, (n, w, s) => {
            if (n !== 1) return undefined;
            // Merged into the case it already holds (none here but this one).
            if (found.addressCase !== "socketAddress") {
              found.addressCase = "socketAddress";
              found.address = "";
            }
            return nested(r, w, s, (e2) => socketAddress(r, e2, found));
          }),
        )
      : undefined,
  );
}

/** SocketAddress { string address = 2; uint32 port_value = 3 } */
function socketAddress(r: Reader, end: number, found: Found): boolean {
  return fields(r, end, (no, wt, stop) => {
    if (no === 2) {
      if (wt !== LENGTH_DELIMITED) return false;
      const text = r.text(stop);
      if (text === null) return false;
      found.address = text;
      return true;
    }
    if (no === 3) return wt === VARINT && r.skipVarint(stop);
    return undefined;
  });
}

/** Request { HttpRequest http = 2 } */
function request(r: Reader, end: number, found: Found): boolean {
  return fields(r, end, (no, wt, stop) => (no === 2 ? nested(r, wt, stop, (e) => httpRequest(r, e, found)) : undefined));
}

/** HttpRequest { string method = 2; map<string, string> headers = 3; string path = 4; string host = 5; HeaderMap header_map = 13 } */
function httpRequest(r: Reader, end: number, found: Found): boolean {
  return fields(r, end, (no, wt, stop) => {
    if (no === 2 || no === 4) {
      if (wt !== LENGTH_DELIMITED) return false;
      const text = r.text(stop);
      if (text === null) return false;
      if (no === 2) found.method = text;
      else found.path = text;
      return true;
    }
    if (no === 5) return wt === LENGTH_DELIMITED && r.skipText(stop);
    if (no === 3) return nested(r, wt, stop, (e) => headerEntry(r, e, found));
    if (no === 13) return nested(r, wt, stop, (e) => fields(r, e, (n, w, s) => (n === 1 ? nested(r, w, s, (e2) => headerValue(r, e2, found)) : undefined)));
    return undefined;
  });
}

/** A map entry { string key = 1; string value = 2 }: a field of any other number is left to fromBinary. */
function headerEntry(r: Reader, end: number, found: Found): boolean {
  let key = "";
  let value = "";
  const ok = fields(r, end, (no, wt, stop) => {
    if ((no !== 1 && no !== 2) || wt !== LENGTH_DELIMITED) return false;
    const text = r.text(stop);
    if (text === null) return false;
    if (no === 1) key = text;
    else value = text;
    return true;
  });
  if (!ok || key === "__proto__") return false;
  found.headers[key] = value;
  return true;
}

/** HeaderValue { string key = 1; string value = 2; bytes raw_value = 3 } */
function headerValue(r: Reader, end: number, found: Found): boolean {
  const entry = { key: "", value: "", rawValue: NO_BYTES as Uint8Array };
  found.headerMap.push(entry);
  return fields(r, end, (no, wt, stop) => {
    if (no === 1 || no === 2) {
      if (wt !== LENGTH_DELIMITED) return false;
      const text = r.text(stop);
      if (text === null) return false;
      if (no === 1) entry.key = text;
      else entry.value = text;
      return true;
    }
    if (no === 3) {
      if (wt !== LENGTH_DELIMITED) return false;
      const bytesEnd = r.delimited(stop);
      if (bytesEnd < 0) return false;
      entry.rawValue = r.buf.subarray(r.at, bytesEnd);
      r.at = bytesEnd;
      return true;
    }
    return undefined;
  });
}

const NO_BYTES = new Uint8Array(0);
