import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIPv4, isIPv6, type LookupFunction } from 'node:net';

export const MAX_URL_LENGTH = 2048;

export type DestinationVerdict = { ok: true; url: URL } | { ok: false; reason: string };

export const PRIVATE_ADDRESS_REASON = 'destination address is private or reserved';
const LOCAL_NAME_REASON = 'destination host is a local name';

export class DestinationRefusedError extends Error {
  readonly code = 'destination_refused';

  /** Only the host and address go into the message: the path and query of a webhook URL often carry tokens. */
  constructor(
    readonly host: string,
    readonly address: string | null,
    reason: string = PRIVATE_ADDRESS_REASON,
  ) {
    super(address !== null && address !== host ? `refused to deliver to ${host} (${address}): ${reason}` : `refused to deliver to ${host}: ${reason}`);
    this.name = 'DestinationRefusedError';
  }
}

const V4_RANGES: Array<[string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4], // also covers 255.255.255.255
];

// Ranges that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are not listed: the embedded address decides.
const V6_RANGES: Array<[string, number]> = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): translated by a private gateway
  ['100::', 64], // discard-only
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10], // deprecated site-local, still routed inside some networks
  ['ff00::', 8],
];

const v4Blocked = new BlockList();
for (const [net, prefix] of V4_RANGES) v4Blocked.addSubnet(net, prefix, 'ipv4');
const v6Blocked = new BlockList();
for (const [net, prefix] of V6_RANGES) v6Blocked.addSubnet(net, prefix, 'ipv6');

function v4Bytes(ip: string): number[] | null {
  if (!isIPv4(ip)) return null;
  return ip.split('.').map(Number);
}

/** Callers must have checked `isIPv6` first, so the grammar here can be lenient. */
function v6Bytes(ip: string): number[] | null {
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const quad = v4Bytes(tail);
    if (!quad) return null;
    const [a = 0, b = 0, c = 0, d = 0] = quad;
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const gap = 8 - head.length - rest.length;
  if (halves.length === 1 ? gap !== 0 : gap < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? gap : 0).fill('0'), ...rest];
  const bytes: number[] = [];
  for (const group of groups) {
    const value = Number.parseInt(group, 16);
    if (!/^[0-9a-f]{1,4}$/i.test(group) || Number.isNaN(value)) return null;
    bytes.push(value >> 8, value & 0xff);
  }
  return bytes;
}

const isZero = (bytes: number[], from: number, to: number): boolean => bytes.slice(from, to).every((b) => b === 0);

/** The IPv4 address an IPv6 address stands for, when it is one of the forms that reach an IPv4 host. */
function embeddedV4(b: number[]): string | null {
  const quad = (at: number): string => b.slice(at, at + 4).join('.');
  if (isZero(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return quad(12); // ::ffff:a.b.c.d
  if (isZero(b, 0, 12)) return quad(12); // ::a.b.c.d (deprecated compatible form; also :: and ::1)
  if (isZero(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) return quad(12); // ::ffff:0:a.b.c.d
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && isZero(b, 4, 12)) return quad(12); // 64:ff9b::/96
  if (b[0] === 0x20 && b[1] === 0x02) return quad(2); // 6to4
  return null;
}

/**
 * Whether a webhook must not be delivered to this address unless private destinations are allowed.
 * Anything that is not an IP address (including the empty string) counts as forbidden: callers use this as a gate, so it fails closed.
 */
export function isForbiddenAddress(ip: string): boolean {
  if (typeof ip !== 'string') return true;
  if (isIPv4(ip)) return v4Blocked.check(ip, 'ipv4');
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  // A zone only picks the interface; the address itself decides.
  const zone = bare.indexOf('%');
  const address = zone >= 0 ? bare.slice(0, zone) : bare;
  if (!isIPv6(address)) return true;
  const bytes = v6Bytes(address);
  if (!bytes) return true;
  const v4 = embeddedV4(bytes);
  if (v4 !== null) return v4Blocked.check(v4, 'ipv4');
  const canonical = Array.from({ length: 8 }, (_, i) => (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16)).join(':');
  return v6Blocked.check(canonical, 'ipv6');
}

/** The IP address a URL hostname (bracketed or not) names literally, or null for a DNS name. */
export function ipLiteral(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (isIPv4(bare) || isIPv6(bare)) return bare;
  return null;
}

function isLocalName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.+$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * Static checks for an endpoint URL. IP literals are judged here (the WHATWG parser has already turned forms like
 * `2130706433` or `0x7f.1` into dotted decimal); other names can only be judged when they are resolved at connect time.
 */
export function checkDestinationUrl(url: string, allowPrivate: boolean): DestinationVerdict {
  if (typeof url !== 'string' || url.length === 0) return { ok: false, reason: 'url is required' };
  if (url.length > MAX_URL_LENGTH) return { ok: false, reason: `url is longer than ${MAX_URL_LENGTH} characters` };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'url is not a valid absolute URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { ok: false, reason: 'url scheme must be http or https' };
  if (parsed.hostname === '') return { ok: false, reason: 'url must have a host' };
  if (parsed.username !== '' || parsed.password !== '') return { ok: false, reason: 'url must not contain a username or password' };
  if (parsed.href.length > MAX_URL_LENGTH) return { ok: false, reason: `url is longer than ${MAX_URL_LENGTH} characters` };
  if (!allowPrivate) {
    const literal = ipLiteral(parsed.hostname);
    if (literal !== null && isForbiddenAddress(literal)) return { ok: false, reason: PRIVATE_ADDRESS_REASON };
    if (literal === null && isLocalName(parsed.hostname)) return { ok: false, reason: LOCAL_NAME_REASON };
  }
  return { ok: true, url: parsed };
}

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
}

/**
 * A `lookup` for net/tls connect that only hands out allowed addresses, so the address checked is the address
 * connected to (a rebinding name cannot answer differently between check and connect). Forbidden addresses are
 * dropped; if none remain the connection fails with DestinationRefusedError. Serves both callback shapes, since
 * Node's autoSelectFamily asks with `all: true`.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  const wantAll = options.all === true;
  dnsLookup(hostname, { ...options, all: true }, (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
    if (err) return callback(err, wantAll ? [] : '');
    const allowed = addresses.filter((a) => !isForbiddenAddress(a.address));
    const first = allowed[0];
    if (!first) {
      if (addresses.length === 0) return callback(notFound(hostname), wantAll ? [] : '');
      const refused = addresses.map((a) => a.address).join(', ');
      return callback(new DestinationRefusedError(hostname, refused), wantAll ? [] : '');
    }
    if (wantAll) callback(null, allowed);
    else callback(null, first.address, first.family);
  });
};
