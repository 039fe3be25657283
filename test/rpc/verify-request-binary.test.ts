import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../support/seeded-random.js";
import { VerifyRequestSchema } from "../../gen/authn/v1/auth_pb.js";
import { decodeVerifyRequest } from "../../src/rpc/verify-request-binary.js";

function random(seed: number) {
  const r = seededRandom(seed);
  // One request in five also holds non-ASCII text.
  const alphabet = ["a", "Z", "0", "-", "/", " ", ":", "\u0000", "\u007f", ...(r.next() < 0.2 ? ["é", "🔑", "\ufeff"] : [])];
  return { ...r, string: (max: number) => r.string(max, alphabet) };
}

function randomRequest(seed: number) {
  const r = random(seed);
  return create(VerifyRequestSchema, {
    headers: Array.from({ length: r.int(14) }, () => ({ name: r.string(20), value: r.string(300) })),
    requiredScope: r.string(10),
    method: r.pick(["", "GET", "POST"]),
    path: r.string(60),
    workspaceId: r.string(10),
    clientIp: r.pick(["", "203.0.113.7", "::1"]),
    cost: r.pick([0, 1, 127, 128, 1_000_000, 2 ** 32 - 1]),
  });
}

describe("VerifyRequest binary reader", () => {
  it("reads what fromBinary reads, or leaves the message to it (5,000 random requests)", () => {
    let read = 0;
    for (let seed = 1; seed <= 5000; seed++) {
      const bytes = Buffer.from(toBinary(VerifyRequestSchema, randomRequest(seed)));
      const decoded = decodeVerifyRequest(bytes);
      if (decoded === null) continue;
      read++;
      expect(decoded, `seed ${seed}`).toEqual(fromBinary(VerifyRequestSchema, bytes));
    }
    expect(read).toBeGreaterThan(3500); // the common case is read here, not handed on
  });

  it("never answers where fromBinary would not: truncated, mutated and hostile bytes", () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const r = random(seed);
      const bytes = Buffer.from(toBinary(VerifyRequestSchema, randomRequest(seed)));
      const mutated = Buffer.from(bytes.subarray(0, r.int(bytes.length + 1)));
      for (let i = 0; i < r.int(4); i++) if (mutated.length > 0) mutated[r.int(mutated.length)] = r.int(256);
      const decoded = decodeVerifyRequest(mutated);
      if (decoded === null) continue;
      expect(decoded, `seed ${seed}`).toEqual(fromBinary(VerifyRequestSchema, mutated));
    }
  });

  it("leaves unknown fields, invalid UTF-8 and other wire types to fromBinary; reads valid UTF-8", () => {
    expect(decodeVerifyRequest(Buffer.from([0x40, 0x01]))).toBeNull(); // field 8
    const accented = Buffer.from(toBinary(VerifyRequestSchema, create(VerifyRequestSchema, { path: "/é🔑\ufeff" })));
    expect(decodeVerifyRequest(accented)).toEqual(fromBinary(VerifyRequestSchema, accented));
    expect(decodeVerifyRequest(Buffer.from([0x22, 0x02, 0xc3, 0x28]))).toBeNull(); // path: invalid UTF-8
    expect(decodeVerifyRequest(Buffer.from([0x22, 0x03, 0xef, 0xbf, 0xbd]))).toBeNull(); // path: U+FFFD itself
    expect(() => fromBinary(VerifyRequestSchema, Buffer.from([0x22, 0x02, 0xc3, 0x28]))).toThrow();
    expect(decodeVerifyRequest(Buffer.from([0x18, 0x01]))).toBeNull(); // method as a varint
    expect(decodeVerifyRequest(Buffer.alloc(0))).toEqual(fromBinary(VerifyRequestSchema, new Uint8Array()));
  });
});
