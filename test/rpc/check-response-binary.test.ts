import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../support/seeded-random.js";
import { CheckResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import type { CheckResponse } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { encodeCheckResponse } from "../../src/rpc/check-response-binary.js";

function random(seed: number) {
  const r = seededRandom(seed);
  return { ...r, string: (max: number) => r.string(max, ["a", "Z", "-", " ", "é", "🔑", "\u0000"]) };
}

function randomResponse(seed: number): CheckResponse {
  const r = random(seed);
  const options = () =>
    Array.from({ length: r.int(14) }, () => ({
      header: r.next() < 0.9 ? { key: r.string(24), value: r.string(80), rawValue: r.next() < 0.2 ? new Uint8Array([1, 2, 255]) : new Uint8Array() } : undefined,
      append: r.pick([undefined, true, false]),
    }));
  const kind = r.int(3);
  return create(CheckResponseSchema, {
    status: r.next() < 0.8 ? { code: r.pick([0, 7, 16, -1]), message: r.string(20) } : undefined,
    httpResponse:
      kind === 0
        ? { case: "okResponse", value: { headers: options(), responseHeadersToAdd: options() } }
        : kind === 1
          ? { case: "deniedResponse", value: { status: r.next() < 0.9 ? { code: r.pick([0, 400, 401, 403, 429]) } : undefined, headers: options(), body: r.string(400) } }
          : { case: undefined },
  });
}

describe("CheckResponse binary writer", () => {
  it("writes the bytes protobuf-es's toBinary writes, for 5,000 random responses", () => {
    for (let seed = 1; seed <= 5000; seed++) {
      const response = randomResponse(seed);
      const expected = Buffer.from(toBinary(CheckResponseSchema, response)).toString("hex");
      expect(Buffer.from(encodeCheckResponse(response)).toString("hex"), `seed ${seed}`).toBe(expected);
    }
  });
});
