import { describe, expect, it } from "vitest";
import { bearerToken, ServiceTokens } from "../../src/edge/service-token.js";

const ONE = "gateway-token-0123456789abcdef";
const TWO = "another-token-0123456789abcdef";

describe("ServiceTokens", () => {
  it.each<[string, string[], string | null | undefined, false | string]>([
    ["no token configured: none required", [], null, "development"],
    ["no token configured: any is fine", [], "whatever", "development"],
    ["the first token", [ONE, TWO], ONE, "token-1"],
    ["the second token", [ONE, TWO], TWO, "token-2"],
    ["a wrong token", [ONE], "wrong", false],
    ["a token's prefix", [ONE], ONE.slice(0, -1), false],
    ["no token", [ONE], null, false],
    ["an empty token", [ONE], "", false],
  ])("%s", (_name, tokens, presented, expected) => {
    const check = new ServiceTokens(tokens).check(presented);
    expect(check.ok ? check.tokenId : false).toBe(expected);
  });

  it("knows when a token is required", () => {
    expect(new ServiceTokens([]).required).toBe(false);
    expect(new ServiceTokens([ONE]).required).toBe(true);
  });
});

describe("bearerToken", () => {
  it.each<[string | null, string | null]>([
    [`Bearer ${ONE}`, ONE],
    [`bearer\t${ONE}`, ONE],
    [`Basic ${ONE}`, null],
    [`Bearer ${ONE} extra`, null],
    ["Bearer", null],
    [null, null],
  ])("%s → %s", (header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });
});
