import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { randomResponse } from "../support/random-verify-response.js";
import { seededRandom } from "../support/seeded-random.js";
import { VerifyRequestSchema, VerifyResponseSchema } from "../../gen/authn/v1/auth_pb.js";
import type { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { decodeVerifyRequestJson, encodeVerifyResponseJson } from "../../src/rpc/verify-json.js";

/** What connect-node reads: the bytes as TextDecoder decodes them, then fromJsonString refusing unknown fields. */
function reference(bytes: Buffer): unknown {
  try {
    return fromJsonString(VerifyRequestSchema, new TextDecoder().decode(bytes), { ignoreUnknownFields: false });
  } catch {
    return "refused";
  }
}

const LONE_SURROGATE = "\ud800";
const ALPHABET = ["a", "Z", "0", "-", "/", " ", ":", "\u0000", "\u007f", '"', "\\", "é", "🔑", LONE_SURROGATE];

/** A request as JSON text, written the ways clients write it: either field name, odd values, extra keys. */
function randomJson(seed: number): string {
  const r = seededRandom(seed);
  // One request in ten may hold a lone surrogate (escaped, as JSON.stringify writes it).
  const alphabet = r.next() < 0.1 ? ALPHABET : ALPHABET.filter((c) => c !== LONE_SURROGATE);
  const text = (max: number) => r.string(max, alphabet);
  const entries: [string, unknown][] = [];
  const odd = () => r.pick<unknown>([null, 1, true, [], {}, "1", -1, 1.5, 2 ** 32, "x"]);
  const maybe = (p: number) => r.next() < p;
  if (maybe(0.9)) {
    entries.push([
      "headers",
      maybe(0.95)
        ? Array.from({ length: r.int(12) }, () =>
            maybe(0.97) ? Object.fromEntries([...(maybe(0.9) ? [["name", text(20)]] : []), ...(maybe(0.9) ? [["value", text(200)]] : []), ...(maybe(0.03) ? [["extra", 1]] : [])]) : odd(),
          )
        : odd(),
    ]);
  }
  for (const [json, proto] of [["requiredScope", "required_scope"], ["method", "method"], ["path", "path"], ["workspaceId", "workspace_id"], ["clientIp", "client_ip"]] as const) {
    if (maybe(0.6)) entries.push([maybe(0.8) ? json : proto, maybe(0.95) ? text(40) : odd()]);
    if (maybe(0.03)) entries.push([proto === json ? json : proto, text(3)]); // the field twice
  }
  if (maybe(0.6)) entries.push(["cost", maybe(0.9) ? r.pick([0, 1, 127, 1_000_000, 2 ** 32 - 1]) : r.pick<unknown>([-0, "7", 2 ** 32, -1, 0.5, null, 1e400])]);
  if (maybe(0.03)) entries.push([r.pick(["unknownField", "__proto__", "Path", "[ext]"]), text(5)]);
  const shuffled = entries.sort(() => r.next() - 0.5);
  return `{${shuffled.map(([k, v]) => `${JSON.stringify(k)}:${v === 1e400 ? "1e400" : JSON.stringify(v)}`).join(",")}}`;
}

describe("VerifyRequest JSON reader", () => {
  it("reads what fromJsonString reads, or leaves the message to it (5,000 random requests)", () => {
    let read = 0;
    let refused = 0;
    for (let seed = 1; seed <= 5000; seed++) {
      const bytes = Buffer.from(randomJson(seed));
      const expected = reference(bytes);
      const decoded = decodeVerifyRequestJson(bytes);
      if (expected === "refused") refused++;
      if (decoded === null) continue;
      read++;
      expect(decoded, `seed ${seed}: ${bytes}`).toEqual(expected);
    }
    expect(read).toBeGreaterThan(1500); // the common case is read here, not handed on
    expect(refused).toBeGreaterThan(100); // and the odd ones were really tried
  });

  it("reads every request connect-es writes (toJsonString), as connect-node reads it", () => {
    const wellFormed = ALPHABET.filter((c) => c !== LONE_SURROGATE);
    for (let seed = 1; seed <= 1000; seed++) {
      const r = seededRandom(seed);
      const request = create(VerifyRequestSchema, {
        headers: Array.from({ length: r.int(14) }, () => ({ name: r.string(20, wellFormed), value: r.string(300, wellFormed) })),
        requiredScope: r.string(10, wellFormed),
        path: r.string(60, wellFormed),
        cost: r.pick([0, 1, 2 ** 32 - 1]),
      });
      const bytes = Buffer.from(toJsonString(VerifyRequestSchema, request));
      expect(decodeVerifyRequestJson(bytes), `seed ${seed}`).toEqual(request);
      expect(reference(bytes)).toEqual(request);
    }
  });

  it("never answers where fromJsonString would not: truncated, mutated and hostile bytes", () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const r = seededRandom(seed);
      const bytes = Buffer.from(randomJson(seed));
      const mutated = Buffer.from(bytes.subarray(0, r.int(bytes.length + 1)));
      for (let i = 0; i < r.int(3); i++) if (mutated.length > 0) mutated[r.int(mutated.length)] = r.int(256);
      const decoded = decodeVerifyRequestJson(mutated);
      if (decoded !== null) expect(decoded, `seed ${seed}`).toEqual(reference(mutated));
    }
  });

  it("leaves invalid UTF-8, a byte-order mark, repeated keys, null values and numbers as strings to fromJsonString", () => {
    const cases = [
      Buffer.from([0x7b, 0x22, 0x70, 0x61, 0x74, 0x68, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), // {"path":"\xc3("}
      Buffer.from('\ufeff{"path":"/"}'),
      Buffer.from('{"path":null}'),
      Buffer.from('{"path":"/a","path":"/b"}'),
      Buffer.from('{"headers":[{"name":"a","name":"b"}]}'),
      Buffer.from('{"cost":"7"}'),
      Buffer.from('{"headers":[null]}'),
      Buffer.from("[]"),
      Buffer.from("null"),
    ];
    for (const bytes of cases) expect(decodeVerifyRequestJson(bytes), String(bytes)).toBeNull();
    expect(decodeVerifyRequestJson(Buffer.from('{"path":"/v1/send","cost":3}'))).toEqual(reference(Buffer.from('{"path":"/v1/send","cost":3}')));
    expect(decodeVerifyRequestJson(Buffer.from("{}"))).toEqual(create(VerifyRequestSchema));
    // Spaced JSON, and colons and quotes inside strings, are read as fromJsonString reads them.
    expect(decodeVerifyRequestJson(Buffer.from('{ "path" : "/a:b" }'))?.path).toBe("/a:b");
    for (const text of ['{ "path" : "/a:b" ,\n "headers": [ {"name": "x", "value": "a\\":\\"b"} ] }', '{"path":"\\\\","path":"x"}']) {
      const bytes = Buffer.from(text);
      const expected = reference(bytes);
      const decoded = decodeVerifyRequestJson(bytes);
      if (expected === "refused") expect(decoded, text).toBeNull();
      else expect(decoded, text).toEqual(expected);
    }
  });
});

describe("VerifyResponse JSON writer", () => {
  it("writes the bytes connect-node writes (toJsonString), for 5,000 random responses", () => {
    for (let seed = 1; seed <= 5000; seed++) {
      const response = randomResponse(seed);
      const expected = new TextEncoder().encode(toJsonString(VerifyResponseSchema, response));
      expect(Buffer.from(encodeVerifyResponseJson(response)).toString(), `seed ${seed}`).toBe(Buffer.from(expected).toString());
    }
  });

  it("writes map keys that are special to JavaScript objects as toJsonString does", () => {
    const response = create(VerifyResponseSchema, { keyId: "k", code: 99 as VerifyCode, metadata: { __proto__: "x", "1": "one", constructor: "c" } as Record<string, string> });
    Object.defineProperty(response.metadata, "__proto__", { value: "x", enumerable: true });
    expect(Buffer.from(encodeVerifyResponseJson(response)).toString()).toBe(toJsonString(VerifyResponseSchema, response));
    expect(Buffer.from(encodeVerifyResponseJson(create(VerifyResponseSchema))).toString()).toBe("{}");
  });
});
