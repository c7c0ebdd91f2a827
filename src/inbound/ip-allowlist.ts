import { BlockList, isIP } from 'node:net';

/** A source's IP allowlist: CIDR blocks or single addresses, IPv4 and IPv6. */
export class IpAllowlist {
  private constructor(private readonly list: BlockList) {}

  /** Throws an Error naming the first entry that is not an address or a CIDR block. */
  static parse(entries: readonly string[]): IpAllowlist {
    const list = new BlockList();
    for (const entry of entries) {
      const [address = '', bits, extra] = entry.trim().split('/');
      const family = isIP(address);
      const max = family === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
      if (family === 0 || extra !== undefined || !(prefix >= 0 && prefix <= max)) throw new Error(`"${entry}" is not an IP address or CIDR block`);
      list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
    return new IpAllowlist(list);
  }

  allows(ip: string): boolean {
    // An IPv4 client seen through an IPv6 socket arrives as ::ffff:a.b.c.d; the IPv4 rules apply to it.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    const address = mapped?.[1] ?? ip;
    const family = isIP(address);
    if (family === 0) return false;
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}
