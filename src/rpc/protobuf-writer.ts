/**
 * The pieces of the protobuf binary format the hand-written encoders
 * (verify-response-binary.ts, check-response-binary.ts) are made of: sizes
 * first, then one buffer written in place. Proto3 rules: a zero scalar is
 * not written, an unsigned varint is at most 2^53 here (callers check).
 */
export const VARINT = 0;
export const LENGTH_DELIMITED = 2;

export function varintSize(value: number): number {
  if (value < 0) return 10; // negative int32: sign-extended to 64 bits
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

export const stringSize = (value: string): number => {
  const bytes = Buffer.byteLength(value, "utf8");
  return varintSize(bytes) + bytes;
};
/** Tag byte(s) plus a length-delimited payload of `length` bytes. */
export const delimitedSize = (field: number, length: number): number => varintSize(field << 3) + varintSize(length) + length;
export const stringFieldSize = (field: number, value: string): number => (value === "" ? 0 : varintSize(field << 3) + stringSize(value));
export const varintFieldSize = (field: number, value: number): number => (value === 0 ? 0 : varintSize(field << 3) + varintSize(value));
export const bytesFieldSize = (field: number, value: Uint8Array): number =>
  value.byteLength === 0 ? 0 : varintSize(field << 3) + varintSize(value.byteLength) + value.byteLength;

export class ProtoWriter {
  private at = 0;
  readonly buffer: Buffer;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  varint(value: number): void {
    if (value < 0) {
      // negative int32 (an unknown enum value): two's complement, 10 bytes
      this.varint64(value >>> 0, 0xffffffff);
      return;
    }
    while (value >= 0x80) {
      this.buffer[this.at++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buffer[this.at++] = value;
  }

  private varint64(low: number, high: number): void {
    for (let i = 0; i < 9; i++) {
      this.buffer[this.at++] = (low & 0x7f) | 0x80;
      low = (low >>> 7) | ((high & 0x7f) << 25);
      high >>>= 7;
    }
    this.buffer[this.at++] = 0x01;
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  string(value: string): void {
    const length = Buffer.byteLength(value, "utf8");
    this.varint(length);
    this.at += this.buffer.write(value, this.at, length, "utf8");
  }

  /** A nested message's tag and length; its fields follow. */
  nested(field: number, length: number): void {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(length);
  }

  stringField(field: number, value: string): void {
    if (value === "") return;
    this.tag(field, LENGTH_DELIMITED);
    this.string(value);
  }

  bytesField(field: number, value: Uint8Array): void {
    if (value.byteLength === 0) return;
    this.tag(field, LENGTH_DELIMITED);
    this.varint(value.byteLength);
    this.buffer.set(value, this.at);
    this.at += value.byteLength;
  }

  boolField(field: number, value: boolean): void {
    if (!value) return;
    this.tag(field, VARINT);
    this.varint(1);
  }

  varintField(field: number, value: number): void {
    if (value === 0) return;
    this.tag(field, VARINT);
    this.varint(value);
  }
}
