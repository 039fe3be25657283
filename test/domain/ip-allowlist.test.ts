/** IP allowlists: parsing, normalizing, matching and containment, one row each. Pure, no I/O. */
import { describe, expect, it } from "vitest";
import {
  allowlistWithin,
  compileIpAllowlist,
  ipAllowed,
  ipMatcherOf,
  normalizeIpAllowlist,
  parseIpAddress,
} from "../../src/domain/ip-allowlist.js";
import { checkIpAllowlist } from "../../src/domain/validation.js";

describe("normalizeIpAllowlist", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    ["203.0.113.7/32", "203.0.113.7"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["192.168.0.0/16", "192.168.0.0/16"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8::1/128", "2001:db8::1"],
    ["2001:db8:abcd:12::/48", "2001:db8:abcd::/48"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["::/0", "::/0"],
    ["::1", "::1"],
    ["::ffff:1.2.3.4", "1.2.3.4"],
    ["::ffff:0102:0304", "1.2.3.4"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    [" 198.51.100.0/24 ", "198.51.100.0/24"],
  ])("writes %s as %s", (entry, normalized) => {
    expect(normalizeIpAllowlist([entry])).toEqual({ ok: true, entries: [normalized] });
  });

  it("drops duplicates after normalizing, keeping the order", () => {
    expect(normalizeIpAllowlist(["10.0.0.0/8", "2001:db8::1", "10.9.9.9/8", "::ffff:203.0.113.7", "203.0.113.7"])).toEqual({
      ok: true,
      entries: ["10.0.0.0/8", "2001:db8::1", "203.0.113.7"],
    });
  });

  it.each([
    "",
    "localhost",
    "10.0.0",
    "10.0.0.256",
    "10.0.0.01",
    "1.2.3.4/33",
    "1.2.3.4/",
    "1.2.3.4/-1",
    "1.2.3.4/08",
    "2001:db8::1/129",
    "2001:db8:::1",
    "fe80::1%eth0",
    "1.2.3.4 5.6.7.8",
    "1.2.3.4,5.6.7.8",
    "x".repeat(100),
  ])("refuses %j", (entry) => {
    expect(normalizeIpAllowlist(["10.0.0.0/8", entry])).toEqual({ ok: false, invalid: entry });
  });

  it("is checked for keys at most 100 entries, naming the invalid one", () => {
    expect(checkIpAllowlist(Array.from({ length: 100 }, (_, i) => `10.0.${i}.0/24`))).toHaveLength(100);
    expect(() => checkIpAllowlist(Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`))).toThrow(/at most 100/);
    expect(() => checkIpAllowlist(["10.0.0.0/8", "10.0.0.300"])).toThrow('ip_allowlist: "10.0.0.300" is not an IPv4 or IPv6 address or CIDR');
  });
});

describe("parseIpAddress", () => {
  it.each([
    ["1.2.3.4", { family: 4, value: 0x01020304 }],
    ["255.255.255.255", { family: 4, value: 0xffffffff }],
    ["::ffff:1.2.3.4", { family: 4, value: 0x01020304 }],
    ["::FFFF:102:304", { family: 4, value: 0x01020304 }],
    ["::1", { family: 6, value: 1n }],
    ["2001:db8::", { family: 6, value: 0x20010db8n << 96n }],
  ])("reads %s", (text, address) => {
    expect(parseIpAddress(text)).toEqual(address);
  });

  it.each(["", "1.2.3", "1.2.3.4/32", "::g", "fe80::1%1", " 1.2.3.4", "x".repeat(65)])("refuses %j", (text) => {
    expect(parseIpAddress(text)).toBeNull();
  });
});

describe("matching", () => {
  const matcher = compileIpAllowlist(["203.0.113.7", "10.0.0.0/8", "2001:db8::/32", "::1"]);
  it.each([
    ["203.0.113.7", true],
    ["203.0.113.8", false],
    ["10.0.0.0", true],
    ["10.255.255.255", true],
    ["11.0.0.0", false],
    ["9.255.255.255", false],
    ["::ffff:10.1.2.3", true],
    ["::ffff:11.1.2.3", false],
    ["2001:db8::1", true],
    ["2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["2001:db9::", false],
    ["::1", true],
    ["::2", false],
  ])("%s is %s", (text, allowed) => {
    const address = parseIpAddress(text);
    if (!address) throw new Error(`${text} did not parse`);
    expect(ipAllowed(matcher, address)).toBe(allowed);
  });

  it("an IPv4-mapped entry and a plain IPv4 client are the same address, and the other way round", () => {
    const v4 = parseIpAddress("192.0.2.1");
    const mapped = parseIpAddress("::ffff:192.0.2.1");
    if (!v4 || !mapped) throw new Error("did not parse");
    expect(ipAllowed(compileIpAllowlist(["::ffff:192.0.2.1"]), v4)).toBe(true);
    expect(ipAllowed(compileIpAllowlist(["::ffff:192.0.2.0/120"]), v4)).toBe(true);
    expect(ipAllowed(compileIpAllowlist(["192.0.2.1"]), mapped)).toBe(true);
  });

  it("compiles one record's allowlist once: the same array answers the same matcher", () => {
    const entries = ["10.0.0.0/8"];
    expect(ipMatcherOf(entries)).toBe(ipMatcherOf(entries));
    expect(ipMatcherOf(["10.0.0.0/8"])).not.toBe(ipMatcherOf(entries));
  });
});

describe("allowlistWithin", () => {
  it.each<[string, string[], string[], boolean]>([
    ["anything is within no allowlist (any address)", [], ["10.0.0.0/8"], true],
    ["no allowlist is within none", [], [], true],
    ["any address is not within an allowlist", ["10.0.0.0/8"], [], false],
    ["a subnet of its range", ["10.0.0.0/8"], ["10.1.0.0/16", "10.2.3.4"], true],
    ["its own range", ["10.0.0.0/8"], ["10.0.0.0/8"], true],
    ["a wider range", ["10.0.0.0/16"], ["10.0.0.0/8"], false],
    ["an address outside", ["10.0.0.0/8"], ["192.168.1.1"], false],
    ["a range spanning two adjacent ones", ["10.0.0.0/25", "10.0.0.128/25"], ["10.0.0.0/24"], true],
    ["a range spanning two with a gap", ["10.0.0.0/25", "10.0.1.0/25"], ["10.0.0.0/23"], false],
    ["IPv6 within IPv6", ["2001:db8::/32"], ["2001:db8:1::/48"], true],
    ["IPv6 against IPv4 only", ["10.0.0.0/8"], ["2001:db8::1"], false],
    ["IPv4 against IPv6 only", ["2001:db8::/32"], ["10.0.0.1"], false],
    ["everything within everything", ["0.0.0.0/0", "::/0"], ["1.2.3.4", "::1"], true],
  ])("%s", (_what, outer, inner, within) => {
    expect(allowlistWithin(inner, outer)).toBe(within);
  });
});
