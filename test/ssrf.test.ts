import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { checkDestinationUrl, DestinationRefusedError, guardedLookup, isForbiddenAddress, MAX_URL_LENGTH } from '../src/delivery/ssrf.js';

const forbidden: string[] = [
  // IPv4, with the first and last address of each range
  '0.0.0.0', '0.255.255.255',
  '10.0.0.0', '10.0.0.1', '10.255.255.255',
  '100.64.0.0', '100.127.255.255',
  '127.0.0.1', '127.0.0.0', '127.255.255.255',
  '169.254.0.0', '169.254.169.254', '169.254.255.255',
  '172.16.0.0', '172.31.255.255',
  '192.0.0.0', '192.0.0.255',
  '192.0.2.0', '192.0.2.255',
  '192.168.0.0', '192.168.255.255',
  '198.18.0.0', '198.19.255.255',
  '198.51.100.0', '198.51.100.255',
  '203.0.113.0', '203.0.113.255',
  '224.0.0.0', '239.255.255.255',
  '240.0.0.0', '254.255.255.255', '255.255.255.255',
  // IPv6
  '::', '::1', '0:0:0:0:0:0:0:1',
  'fc00::', 'fd00::1', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'fe80::', 'fe80::1', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fe80::1%eth0',
  'fec0::1',
  'ff00::', 'ff02::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  '2001:db8::', '2001:db8::1', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff',
  '100::1',
  '64:ff9b:1::1',
  // IPv6 forms that reach a forbidden IPv4 host
  '::ffff:127.0.0.1', '::ffff:7f00:1', '::FFFF:7F00:0001', '0:0:0:0:0:ffff:7f00:1', '[::ffff:127.0.0.1]',
  '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', '::ffff:0.0.0.0', '::ffff:255.255.255.255',
  '::127.0.0.1', '::7f00:1', '::10.1.2.3',
  '::ffff:0:127.0.0.1',
  '64:ff9b::127.0.0.1', '64:ff9b::7f00:1', '64:ff9b::a9fe:a9fe', '64:ff9b::192.168.1.1',
  '2002:7f00:1::', '2002:c0a8:101::1',
  // not IP addresses at all: fail closed
  '', 'localhost', 'example.com', '127.0.0.1.nip.io', '0177.0.0.1', '2130706433', '0x7f.0.0.1', '1.2.3', '256.1.1.1',
  '::ffff:1.2.3.256', '1::2::3', '[::1', 'fe80::1%',
];

const allowed: string[] = [
  '8.8.8.8', '1.1.1.1', '93.184.216.34',
  // just outside the ranges
  '1.0.0.0', '9.255.255.255', '11.0.0.0',
  '100.63.255.255', '100.128.0.0',
  '126.255.255.255', '128.0.0.0',
  '169.253.255.255', '169.255.0.0',
  '172.15.255.255', '172.32.0.0',
  '192.0.1.0', '192.0.3.0', '191.255.255.255',
  '192.167.255.255', '192.169.0.0',
  '198.17.255.255', '198.20.0.0',
  '198.51.99.255', '198.51.101.0',
  '203.0.112.255', '203.0.114.0',
  '223.255.255.255',
  '2606:4700:4700::1111', '2001:4860:4860::8888', '2a00:1450:4001::1',
  'fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fe00::1', 'fe7f::1', 'ff::1',
  '2001:db7:ffff::1', '2001:db9::1',
  '::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::8.8.8.8', '64:ff9b::101:101', '::8.8.8.8', '2002:808:808::1',
  '64:ff9b:2::1',
];

describe('isForbiddenAddress', () => {
  it.each(forbidden)('forbids %j', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(true);
  });

  it.each(allowed)('allows %s', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(false);
  });
});

const refused: Array<[string, RegExp]> = [
  ['http://127.0.0.1', /private or reserved/],
  ['http://127.0.0.1:8080/hook', /private or reserved/],
  ['http://10.0.0.1', /private or reserved/],
  ['http://169.254.169.254/latest/meta-data', /private or reserved/],
  ['http://192.168.1.10/', /private or reserved/],
  ['http://[::1]/', /private or reserved/],
  ['http://[::ffff:127.0.0.1]/', /private or reserved/],
  ['http://[::ffff:7f00:1]/', /private or reserved/],
  ['http://[fd00::1]/', /private or reserved/],
  ['http://[fe80::1]/', /private or reserved/],
  ['http://[64:ff9b::a9fe:a9fe]/', /private or reserved/],
  ['http://0.0.0.0:3000/', /private or reserved/],
  // the WHATWG parser turns these into 127.0.0.1 / 10.0.0.1
  ['http://2130706433/', /private or reserved/],
  ['http://0177.0.0.1/', /private or reserved/],
  ['http://0x7f.0.0.1/', /private or reserved/],
  ['http://0x7f.1/', /private or reserved/],
  ['http://127.1/', /private or reserved/],
  ['http://012.0.0.1/', /private or reserved/],
  ['http://127.0.0.1./', /private or reserved/],
  ['http://localhost:3000/', /local name/],
  ['http://LOCALHOST/', /local name/],
  ['http://localhost./', /local name/],
  ['http://foo.localhost/', /local name/],
  ['ftp://x', /scheme/],
  ['javascript:alert(1)', /scheme/],
  ['file:///etc/passwd', /scheme/],
  ['data:text/plain,hi', /scheme/],
  ['ws://example.com/', /scheme/],
  ['https://user:pass@example.com/hook', /username or password/],
  ['https://user@example.com/hook', /username or password/],
  ['https://:pass@example.com/hook', /username or password/],
  [`https://example.com/${'a'.repeat(MAX_URL_LENGTH)}`, /longer than/],
  ['not a url', /not a valid/],
  ['/relative/path', /not a valid/],
  ['', /required/],
  ['http://', /not a valid/],
];

describe('checkDestinationUrl', () => {
  it.each(refused)('refuses %s', (url, reason) => {
    const verdict = checkDestinationUrl(url, false);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toMatch(reason);
  });

  it('normalises numeric IPv4 forms to dotted decimal before judging them', () => {
    for (const url of ['http://2130706433/', 'http://0177.0.0.1/', 'http://0x7f.0.0.1/', 'http://0x7f.1/']) {
      expect(new URL(url).hostname).toBe('127.0.0.1');
      const verdict = checkDestinationUrl(url, true);
      expect(verdict.ok && verdict.url.hostname).toBe('127.0.0.1');
    }
  });

  it.each(['https://example.com/hook', 'http://example.com:8080/a?b=c', 'https://8.8.8.8/', 'https://[2606:4700:4700::1111]/x', 'https://localhost.example.com/', 'https://mylocalhost/'])(
    'accepts %s',
    (url) => {
      const verdict = checkDestinationUrl(url, false);
      expect(verdict.ok).toBe(true);
      if (verdict.ok) expect(verdict.url.href).toBe(new URL(url).href);
    },
  );

  it('accepts private and local destinations when they are allowed, but keeps the other rules', () => {
    for (const [url, reason] of refused) {
      const verdict = checkDestinationUrl(url, true);
      const structural = !/private or reserved|local name/.test(reason.source);
      expect({ url, ok: verdict.ok }).toEqual({ url, ok: !structural });
    }
  });

  it('gives reasons the endpoint API can tell apart (unsafe vs. invalid)', () => {
    const unsafe = /private|reserved|loopback|local/i;
    for (const [url, reason] of refused) {
      const verdict = checkDestinationUrl(url, false);
      if (verdict.ok) throw new Error(`expected ${url} to be refused`);
      expect({ url, unsafe: unsafe.test(verdict.reason) }).toEqual({ url, unsafe: /private or reserved|local name/.test(reason.source) });
    }
  });
});

describe('DestinationRefusedError', () => {
  it('names host and address, carries a code, and leaves path and query out', () => {
    const err = new DestinationRefusedError('hooks.example.com', '10.0.0.7');
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('destination_refused');
    expect(err.message).toContain('hooks.example.com');
    expect(err.message).toContain('10.0.0.7');
  });
});

function lookupWith(hostname: string, options: { all?: boolean; family?: number }): Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }> {
  return new Promise((resolve) => guardedLookup(hostname, options, (err, address, family) => resolve({ err, address, family })));
}

describe('guardedLookup', () => {
  it('refuses a name that resolves to loopback, in both callback shapes', async () => {
    for (const options of [{}, { all: true }, { family: 4 }, { all: true, family: 0 }]) {
      const { err } = await lookupWith('localhost', options);
      expect(err).toBeInstanceOf(DestinationRefusedError);
      expect(err?.message).toMatch(/localhost/);
    }
  });

  it('passes literal public addresses through in both callback shapes', async () => {
    const single = await lookupWith('8.8.8.8', {});
    expect(single).toEqual({ err: null, address: '8.8.8.8', family: 4 });
    const all = await lookupWith('2606:4700:4700::1111', { all: true });
    expect(all.err).toBeNull();
    expect(all.address).toEqual([{ address: '2606:4700:4700::1111', family: 6 }]);
  });

  it('passes resolver errors through unchanged', async () => {
    const { err } = await lookupWith('does-not-exist.invalid', { all: true });
    expect(err).not.toBeInstanceOf(DestinationRefusedError);
    expect(err?.code).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });
});
