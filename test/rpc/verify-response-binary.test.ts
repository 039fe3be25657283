import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { randomResponse } from "../support/random-verify-response.js";
import { VerifyResponseSchema } from "../../gen/authn/v1/auth_pb.js";
import { encodeVerifyResponse } from "../../src/rpc/verify-response-binary.js";

describe("VerifyResponse binary writer", () => {
  it("writes the bytes protobuf-es's toBinary writes, for 5,000 random responses", () => {
    for (let seed = 1; seed <= 5000; seed++) {
      const response = randomResponse(seed);
      const expected = Buffer.from(toBinary(VerifyResponseSchema, response)).toString("hex");
      expect(Buffer.from(encodeVerifyResponse(response)).toString("hex"), `seed ${seed}`).toBe(expected);
    }
  });

  it("writes an empty response as no bytes, and keeps unknown fields (through toBinary)", () => {
    expect(encodeVerifyResponse(create(VerifyResponseSchema))).toHaveLength(0);
    const withUnknown = create(VerifyResponseSchema, { keyId: "k" });
    withUnknown.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
    expect(Buffer.from(encodeVerifyResponse(withUnknown))).toEqual(Buffer.from(toBinary(VerifyResponseSchema, withUnknown)));
  });
});
