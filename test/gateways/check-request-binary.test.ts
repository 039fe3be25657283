import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { UnknownField } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { HeaderValueSchema } from "../../gen/envoy/config/core/v3/base_pb.js";
import { SocketAddressSchema } from "../../gen/envoy/config/core/v3/address_pb.js";
import {
  AttributeContextSchema,
  AttributeContext_HttpRequestSchema,
  AttributeContext_PeerSchema,
  AttributeContext_RequestSchema,
} from "../../gen/envoy/service/auth/v3/attribute_context_pb.js";
import { describe, expect, it } from "vitest";
import { CheckRequestSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { decodeCheckRequest } from "../../src/gateway/check-request-binary.js";
import { checkInputOf } from "../../src/gateway/ext-authz.js";
import { seededRandom } from "../support/seeded-random.js";

/** What connect-node's path gives Check: fromBinary, then checkInputOf; "refused" when fromBinary throws. */
function reference(bytes: Uint8Array): unknown {
  try {
    return checkInputOf(fromBinary(CheckRequestSchema, bytes));
  } catch {
    return "refused";
  }
}

const ALPHABET = ["a", "Z", "0", "-", ",", " ", ":", "é", "🔑", "\u0000", "\ufffd"];

function random(seed: number) {
  const r = seededRandom(seed);
  // One request in ten may hold U+FFFD itself (valid UTF-8, which the reader leaves to fromBinary).
  const alphabet = r.next() < 0.1 ? ALPHABET : ALPHABET.filter((c) => c !== "\ufffd");
  const text = (max: number) => r.string(max, alphabet);
  /** Fields Envoy sends that this project's trimmed protos do not declare (ids, times, ports, hosts...). */
  const unknown = (): UnknownField[] =>
    Array.from({ length: r.int(3) }, () => {
      const no = 20 + r.int(10);
      const kind = r.int(3);
      if (kind === 0) return { no, wireType: WireType.Varint, data: new BinaryWriter().uint64(BigInt(r.int(1e9))).finish() };
      if (kind === 1) return { no, wireType: WireType.Bit32, data: new BinaryWriter().fixed32(r.int(1e9)).finish() };
      return { no, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(Buffer.from(text(20))).finish() };
    });
  const withUnknown = <T extends { $unknown?: UnknownField[] }>(message: T): T => {
    if (r.next() < 0.3) message.$unknown = unknown();
    return message;
  };
  const maybe = <T>(p: number, value: () => T): T | undefined => (r.next() < p ? value() : undefined);
  const http = () =>
    withUnknown(
      create(AttributeContext_HttpRequestSchema, {
        method: r.pick(["", "GET", "POST", text(5)]),
        path: r.pick(["", "/v1/send", "/v1/../x", text(30)]),
        host: r.pick(["", "api.example.com", text(10)]),
        headers: Object.fromEntries(Array.from({ length: r.int(12) }, () => [r.pick(["authorization", "x-api-key", ":path", "Host", "0", "42", "4294967295", text(10)]), text(80)])),
        headerMap: maybe(0.4, () => ({
          headers: Array.from({ length: r.int(12) }, () =>
            withUnknown(
              create(HeaderValueSchema, {
                key: r.pick(["authorization", "x-api-key", ":authority", text(10)]),
                value: r.next() < 0.7 ? text(80) : "",
                rawValue: r.next() < 0.3 ? Buffer.from(r.pick([text(40), "\xff\xfe"]), "latin1") : new Uint8Array(0),
              }),
            ),
          ),
        })),
      }),
    );
  const source = () =>
    withUnknown(
      create(AttributeContext_PeerSchema, {
        address: maybe(0.9, () =>
          r.next() < 0.9
            ? { address: { case: "socketAddress" as const, value: withUnknown(create(SocketAddressSchema, { address: r.pick(["203.0.113.7", "::ffff:10.0.0.1", "::1", "", text(12)]), portValue: r.int(65536) })) } }
            : {},
        ),
      }),
    );
  const request = () =>
    create(CheckRequestSchema, {
      attributes: maybe(0.95, () =>
        withUnknown(
          create(AttributeContextSchema, {
            source: maybe(0.8, source),
            request: maybe(0.95, () => withUnknown(create(AttributeContext_RequestSchema, { http: maybe(0.95, http) }))),
          }),
        ),
      ),
    });
  return { ...r, request };
}

/** A request as Envoy would send it: sometimes two messages back to back, which protobuf merges. */
function randomBytes(seed: number): Buffer {
  const r = random(seed);
  const first = toBinary(CheckRequestSchema, r.request());
  return r.next() < 0.15 ? Buffer.concat([first, toBinary(CheckRequestSchema, r.request())]) : Buffer.from(first);
}

describe("CheckRequest binary reader", () => {
  it("finds what fromBinary finds, or leaves the message to it (4,000 random requests)", () => {
    let read = 0;
    for (let seed = 1; seed <= 4000; seed++) {
      const bytes = randomBytes(seed);
      const decoded = decodeCheckRequest(bytes);
      if (decoded === null) continue;
      read++;
      expect(decoded, `seed ${seed}`).toEqual(reference(bytes));
    }
    expect(read).toBeGreaterThan(3000); // the common case is read here, not handed on
  });

  it("never answers where fromBinary would not: truncated, mutated and hostile bytes", () => {
    let refused = 0;
    for (let seed = 1; seed <= 4000; seed++) {
      const r = seededRandom(seed);
      const bytes = randomBytes(seed);
      const mutated = Buffer.from(bytes.subarray(0, bytes.length - r.int(Math.min(bytes.length, 4) + 1)));
      for (let i = 0; i < r.int(4); i++) if (mutated.length > 0) mutated[r.int(mutated.length)] = r.int(256);
      const expected = reference(mutated);
      if (expected === "refused") refused++;
      const decoded = decodeCheckRequest(mutated);
      if (decoded !== null) expect(decoded, `seed ${seed}`).toEqual(expected);
    }
    expect(refused).toBeGreaterThan(500); // the hostile cases were really tried
  });

  it("leaves groups, wrong wire types, invalid UTF-8 and a __proto__ header to fromBinary", () => {
    const attributes = (inner: Uint8Array) => new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(inner).finish();
    const request = (http: Uint8Array) => attributes(new BinaryWriter().tag(4, WireType.LengthDelimited).bytes(new BinaryWriter().tag(2, WireType.LengthDelimited).bytes(http).finish()).finish());
    const cases = [
      new BinaryWriter().tag(9, WireType.StartGroup).tag(9, WireType.EndGroup).finish(), // an unknown group
      request(new BinaryWriter().tag(2, WireType.Varint).uint32(1).finish()), // method as a varint
      request(new BinaryWriter().tag(4, WireType.LengthDelimited).bytes(Buffer.from([0xc3, 0x28])).finish()), // path: invalid UTF-8
      request(new BinaryWriter().tag(5, WireType.LengthDelimited).bytes(Buffer.from([0xff])).finish()), // host: invalid UTF-8
      request(new BinaryWriter().tag(3, WireType.LengthDelimited).bytes(new BinaryWriter().tag(1, WireType.LengthDelimited).string("__proto__").tag(2, WireType.LengthDelimited).string("x").finish()).finish()),
    ];
    for (const bytes of cases) expect(decodeCheckRequest(bytes)).toBeNull();
    expect(reference(cases[2] as Uint8Array)).toBe("refused");
    expect(reference(cases[3] as Uint8Array)).toBe("refused");
    expect(decodeCheckRequest(new Uint8Array(0))).toEqual(reference(new Uint8Array(0)));
  });
});
