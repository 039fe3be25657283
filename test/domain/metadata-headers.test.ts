/** Metadata forwarded to upstreams as X-Keyward-Meta-<key> headers: which, how encoded, how configured. Pure, no I/O. */
import { describe, expect, it } from "vitest";
import { metadataHeaders, parseForwardedMetadataKeys } from "../../src/domain/metadata-headers.js";

describe("metadataHeaders", () => {
  it("answers one header per forwarded key, always, empty when the key has none", () => {
    expect(metadataHeaders({ team: "billing", plan: "pro", secret_note: "not forwarded" }, ["team", "plan", "region"])).toEqual([
      { name: "X-Keyward-Meta-team", value: "billing" },
      { name: "X-Keyward-Meta-plan", value: "pro" },
      { name: "X-Keyward-Meta-region", value: "" },
    ]);
    expect(metadataHeaders({ team: "billing" }, [])).toEqual([]);
  });

  it("never reads inherited properties as metadata", () => {
    expect(metadataHeaders({}, ["constructor", "toString"])).toEqual([
      { name: "X-Keyward-Meta-constructor", value: "" },
      { name: "X-Keyward-Meta-toString", value: "" },
    ]);
  });

  it.each([
    ["plain-ASCII_value.1", "plain-ASCII_value.1"],
    ["New York", "New%20York"],
    ["100%", "100%25"],
    ["line\r\nInjected: yes", "line%0D%0AInjected:%20yes"],
    ["Zürich 🚀", "Z%C3%BCrich%20%F0%9F%9A%80"],
  ])("writes %j as a safe header value %j that decodeURIComponent reverses", (value, encoded) => {
    const [header] = metadataHeaders({ city: value }, ["city"]);
    expect(header?.value).toBe(encoded);
    expect(header?.value).toMatch(/^[\x21-\x7e]*$/);
    expect(decodeURIComponent(header?.value ?? "")).toBe(value);
  });
});

describe("parseForwardedMetadataKeys (KEYWARD_FORWARD_METADATA)", () => {
  it("reads a comma-separated list", () => {
    expect(parseForwardedMetadataKeys("team, plan ,region")).toEqual(["team", "plan", "region"]);
    expect(parseForwardedMetadataKeys("")).toEqual([]);
  });

  it.each([
    ["team,bad key", /"bad key" is not a metadata key/],
    ["team,-dash", /"-dash" is not a metadata key/],
    ["team,Team", /"Team" is named twice/],
    [Array.from({ length: 33 }, (_, i) => `k${i}`).join(","), /at most 32 keys/],
  ])("refuses %j", (raw, message) => {
    expect(() => parseForwardedMetadataKeys(raw)).toThrow(message);
  });
});
