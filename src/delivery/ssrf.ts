import { BlockList, isIP } from 'node:net';

/** Address ranges a webhook must not reach by default: loopback, private, link-local, reserved, multicast… */
const forbidden = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) forbidden.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64],
] as const) forbidden.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address embedded in IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) or NAT64 (64:ff9b::/96) forms. */
function embeddedIpv4(ip: string): string | null {
  const groups = expandIpv6(ip);
  if (groups === null) return null;
  const high = groups.slice(0, 6);
  const mapped = high.slice(0, 5).every((g) => g === 0) && (high[5] === 0xffff || high[5] === 0);
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0);
  if (!mapped && !nat64) return null;
  const [a, b] = [groups[6]!, groups[7]!];
  return `${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
}

function expandIpv6(ip: string): number[] | null {
  let text = ip.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const parts = dotted[1]!.split('.').map(Number);
    text = text.slice(0, -dotted[1]!.length) + `${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/** True for an address deliveries must not go to by default. Anything that is not an IP address counts as forbidden. */
export function isForbiddenAddress(ip: string): boolean {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const family = isIP(bare.split('%')[0]!);
  if (family === 4) return forbidden.check(bare, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedIpv4(bare);
  if (v4 !== null && v4 !== '0.0.0.0' && v4 !== '0.0.0.1') return forbidden.check(v4, 'ipv4');
  return forbidden.check(bare.split('%')[0]!, 'ipv6');
}

export class DestinationRefusedError extends Error {
  readonly code = 'destination_refused';
  constructor(host: string, address: string) {
    super(`destination ${host} resolves to ${address}, a private or reserved address`);
    this.name = 'DestinationRefusedError';
  }
}

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * The checks that can be made when an endpoint is created. Literal addresses (the WHATWG parser turns decimal, octal
 * and hex forms into dotted quads) are checked here; host names are checked again at connect time.
 */
export function checkDestinationUrl(text: string, allowPrivate: boolean): UrlVerdict {
  if (text.length > 2048) return { ok: false, reason: 'URL is longer than 2048 characters' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'scheme must be http or https' };
  if (url.hostname === '') return { ok: false, reason: 'URL has no host' };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'credentials in the URL are not allowed: use headers' };
  if (allowPrivate) return { ok: true, url };
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) !== 0 && isForbiddenAddress(host)) return { ok: false, reason: 'destination address is private or reserved' };
  if (/(^|\.)localhost\.?$/i.test(host)) return { ok: false, reason: 'destination localhost is private' };
  return { ok: true, url };
}
