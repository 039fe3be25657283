import { describe, expect, it } from "vitest";
import { TrustedProxies } from "../../src/edge/client-ip.js";

describe("TrustedProxies.clientIp", () => {
  it.each<[string, string, string, string[], string]>([
    ["no proxy trusted: the peer, whatever X-Forwarded-For says", "", "127.0.0.1", ["203.0.113.9"], "127.0.0.1"],
    ["an untrusted peer: the peer", "10.0.0.0/8", "192.0.2.7", ["203.0.113.9"], "192.0.2.7"],
    ["a trusted peer: the last hop", "127.0.0.1", "127.0.0.1", ["203.0.113.9"], "203.0.113.9"],
    ["right to left past trusted hops", "127.0.0.1,10.0.0.0/8", "127.0.0.1", ["198.51.100.1, 203.0.113.9, 10.1.2.3"], "203.0.113.9"],
    ["a client-sent entry left of the first untrusted hop is ignored", "127.0.0.1", "127.0.0.1", ["1.2.3.4", "203.0.113.9"], "203.0.113.9"],
    ["every hop trusted: the left-most", "10.0.0.0/8,127.0.0.0/8", "127.0.0.1", ["10.0.0.1, 10.0.0.2"], "10.0.0.1"],
    ["a garbage hop stops the walk", "127.0.0.1", "127.0.0.1", ["203.0.113.9, not-an-ip"], "127.0.0.1"],
    ["no header: the peer", "127.0.0.1", "127.0.0.1", [], "127.0.0.1"],
    ["IPv4-mapped peers are IPv4", "127.0.0.1", "::ffff:127.0.0.1", ["203.0.113.9"], "203.0.113.9"],
    ["IPv6 CIDRs", "::1,fd00::/8", "::1", ["2001:db8::1, fd00::5"], "2001:db8::1"],
  ])("%s", (_name, trusted, peer, forwardedFor, expected) => {
    expect(TrustedProxies.parse(trusted).clientIp(peer, forwardedFor)).toBe(expected);
  });

  it.each(["10.0.0.0/33", "not-an-ip", "10.0.0.0/8/1", "::1/129", "10.0.0.0/x"])("refuses %s", (entry) => {
    expect(() => TrustedProxies.parse(entry)).toThrow(entry);
  });
});
