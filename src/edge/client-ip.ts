/**
 * The client's address for a gateway's request: the socket peer, unless the
 * peer is a trusted proxy (`KEYWARD_TRUSTED_PROXIES`), in which case
 * `X-Forwarded-For` is read right to left past every trusted hop. No proxy is
 * trusted by default, so a client-sent header is never believed. Pure: no I/O.
 */
import { BlockList, isIP } from "node:net";
import { clientIpFrom } from "../domain/request-context.js";

const plainAddress = (address: string): string => clientIpFrom(address.trim());

export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly count: number;

  /** Addresses or CIDRs (`10.0.0.0/8`, `::1`); throws an Error naming the first bad entry. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = "", bits, extra] = entry.trim().split("/");
      const family = isIP(address);
      const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
      if (
        family === 0 || extra !== undefined ||
        (bits !== undefined && !/^\d{1,3}$/.test(bits)) || prefix > (family === 6 ? 128 : 32)
      ) {
        throw new Error(`"${entry}" is not an IP address or CIDR`);
      }
      this.list.addSubnet(address, prefix, family === 6 ? "ipv6" : "ipv4");
    }
    this.count = entries.length;
  }

  /** `KEYWARD_TRUSTED_PROXIES`: comma-separated addresses or CIDRs; empty trusts none. */
  static parse(value: string): TrustedProxies {
    return new TrustedProxies(value.split(",").map((e) => e.trim()).filter((e) => e !== ""));
  }

  trusts(address: string): boolean {
    const family = isIP(address);
    return this.count > 0 && family !== 0 && this.list.check(address, family === 6 ? "ipv6" : "ipv4");
  }

  /**
   * The client: the peer if it is not trusted; else the right-most
   * `X-Forwarded-For` entry that is not trusted (or the left-most, when every
   * hop is). An entry that is not an address stops the walk at the last good one.
   */
  clientIp(peer: string, forwardedFor: readonly string[] = []): string {
    let client = plainAddress(peer);
    const hops = forwardedFor.flatMap((v) => v.split(",")).map(plainAddress).filter((h) => h !== "");
    for (let i = hops.length - 1; i >= 0 && this.trusts(client); i--) {
      const hop = hops[i] ?? "";
      if (isIP(hop) === 0) break;
      client = hop;
    }
    return client;
  }
}
