/**
 * VerifyRequest from the protobuf binary format, for the common case only:
 * every field known, one-byte tags, valid UTF-8 without U+FFFD. That is what
 * gateways send, and it reads without protobuf-es's per-field arrays and
 * views (most of what decoding a dozen headers allocated). Anything else —
 * unknown fields, other wire types, text that is not valid UTF-8 (or holds
 * U+FFFD, which could be a decoded error), a truncated message — answers
 * null and protobuf-es's fromBinary reads it (and words any error).
 * test/rpc/verify-request-binary.test.ts holds it to fromBinary's results.
 */
import type { VerifyRequest } from "../../gen/authn/v1/auth_pb.js";
import type { Header } from "../../gen/authn/v1/common_pb.js";

/** Buffer's native decoder, without `toString`'s argument handling (present on every Node Buffer, untyped). */
type NativeSlices = Buffer & { utf8Slice(start: number, end: number): string };

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const MAX_VARINT32_BYTES = 5;

/** Where a read stopped, and its value; null: not the common case. */
class Reader {
  at = 0;
  constructor(
    private readonly buf: Buffer,
    public end: number,
  ) {}

  /** A varint of at most 32 bits, or -1. */
  varint32(): number {
    let value = 0;
    for (let shift = 0, i = 0; i < MAX_VARINT32_BYTES && this.at < this.end; i++, shift += 7) {
      const byte = this.buf[this.at++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value <= 0xffffffff ? value : -1;
    }
    return -1;
  }

  /** The next field's tag when it fits one byte, else -1. */
  tag(): number {
    const byte = this.buf[this.at++] as number;
    return byte < 0x80 ? byte : -1;
  }

  /**
   * A length-delimited string, or null. Node decodes it natively; invalid
   * UTF-8 comes out as U+FFFD, and any U+FFFD leaves the message to
   * fromBinary, which refuses invalid UTF-8 in proto3 strings.
   */
  text(): string | null {
    const length = this.varint32();
    if (length < 0 || length > this.end - this.at) return null;
    const start = this.at;
    this.at = start + length;
    const text = (this.buf as NativeSlices).utf8Slice(start, this.at);
    return text.includes("\ufffd") ? null : text;
  }
}

/** A VerifyRequest with every field at its zero value, as create() makes it (the hand-written readers fill it). */
export function emptyVerifyRequest(): VerifyRequest {
  return {
    $typeName: "authn.v1.VerifyRequest",
    headers: [],
    requiredScope: "",
    method: "",
    path: "",
    workspaceId: "",
    clientIp: "",
    cost: 0,
  };
}

export function decodeVerifyRequest(bytes: Uint8Array): VerifyRequest | null {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf, buf.length);
  const request = emptyVerifyRequest();
  while (r.at < r.end) {
    const tag = r.tag();
    if (tag < 0) return null;
    const field = tag >>> 3;
    if (field === 7) {
      if ((tag & 7) !== VARINT) return null;
      const cost = r.varint32();
      if (cost < 0) return null;
      request.cost = cost;
      continue;
    }
    if ((tag & 7) !== LENGTH_DELIMITED) return null;
    if (field === 1) {
      const header = readHeader(r);
      if (!header) return null;
      request.headers.push(header);
      continue;
    }
    const text = r.text();
    if (text === null) return null;
    if (field === 2) request.requiredScope = text;
    else if (field === 3) request.method = text;
    else if (field === 4) request.path = text;
    else if (field === 5) request.workspaceId = text;
    else if (field === 6) request.clientIp = text;
    else return null;
  }
  return request;
}

function readHeader(r: Reader): Header | null {
  const length = r.varint32();
  if (length < 0 || length > r.end - r.at) return null;
  const outerEnd = r.end;
  r.end = r.at + length;
  const header: Header = { $typeName: "authn.v1.Header", name: "", value: "" };
  while (r.at < r.end) {
    const tag = r.tag();
    if (tag !== ((1 << 3) | LENGTH_DELIMITED) && tag !== ((2 << 3) | LENGTH_DELIMITED)) return null;
    const text = r.text();
    if (text === null) return null;
    if (tag >>> 3 === 1) header.name = text;
    else header.value = text;
  }
  r.end = outerEnd;
  return header;
}
