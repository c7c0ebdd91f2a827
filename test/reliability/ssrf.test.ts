import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { isForbiddenAddress } from '../../src/delivery/ssrf.js';
import { ADMIN_TOKEN, startTestHookyard, type TestHookyard } from '../helpers/hookyard.js';
import { Receiver } from '../helpers/receiver.js';
import { describeReliability, listAll, report, tally, waitUntil } from './support.js';

/*
 * SSRF with the default configuration (HOOKYARD_ALLOW_PRIVATE_DESTINATIONS unset): every way of naming loopback,
 * RFC 1918, CGNAT, link-local (169.254.169.254 included), IPv6 loopback/ULA/link-local and IPv4-mapped addresses,
 * as literals in any notation the URL parser accepts or as DNS names that resolve to them, is refused, on every
 * surface that takes a destination URL; redirects are never followed.
 *
 * Names under .ssrf.test resolve through a stand-in for node:dns (only in the code under test: the resolver answers
 * what an attacker's DNS would), so no query leaves the machine.
 */

const RESOLVES = vi.hoisted(() => {
  const table: Record<string, LookupAddress[]> = {
    'metadata.ssrf.test': [{ address: '169.254.169.254', family: 4 }],
    'ten.ssrf.test': [{ address: '10.0.0.5', family: 4 }],
    'one-seven-two.ssrf.test': [{ address: '172.20.1.1', family: 4 }],
    'one-nine-two.ssrf.test': [{ address: '192.168.1.20', family: 4 }],
    'cgnat.ssrf.test': [{ address: '100.64.0.1', family: 4 }],
    'loopback.ssrf.test': [{ address: '127.0.0.1', family: 4 }],
    'loopback6.ssrf.test': [{ address: '::1', family: 6 }],
    'ula.ssrf.test': [{ address: 'fd00::2', family: 6 }],
    'link-local6.ssrf.test': [{ address: 'fe80::1', family: 6 }],
    'mapped.ssrf.test': [{ address: '::ffff:127.0.0.1', family: 6 }],
    'mapped-metadata.ssrf.test': [{ address: '::ffff:169.254.169.254', family: 6 }],
    'all-private.ssrf.test': [{ address: '10.0.0.1', family: 4 }, { address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }],
  };
  return { table, asked: new Map<string, number>() };
});

vi.mock('node:dns', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:dns')>();
  const fake = ((name: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (err: NodeJS.ErrnoException | null, address: unknown, family?: number) => void;
    const opts = (typeof options === 'object' && options !== null ? options : {}) as { all?: boolean };
    const answer = RESOLVES.table[name];
    if (answer === undefined) return (real.lookup as (...args: unknown[]) => void)(name, options, callback);
    RESOLVES.asked.set(name, (RESOLVES.asked.get(name) ?? 0) + 1);
    process.nextTick(() => (opts.all ? cb(null, answer) : cb(null, answer[0]!.address, answer[0]!.family)));
  }) as typeof real.lookup;
  return { ...real, lookup: fake, default: { ...real, lookup: fake } };
});

/** Literal destinations, with what they stand for. */
const LITERALS: Array<[string, string]> = [
  ['loopback', 'http://127.0.0.1:{port}/'],
  ['loopback', 'http://127.0.0.1./'],
  ['loopback', 'http://127.1/'],
  ['loopback', 'http://127.255.255.254/'],
  ['this host', 'http://0.0.0.0:{port}/'],
  ['this host', 'http://0/'],
  ['RFC 1918', 'http://10.0.0.1/hook'],
  ['RFC 1918', 'http://172.16.0.1/'],
  ['RFC 1918', 'http://172.31.255.255/'],
  ['RFC 1918', 'http://192.168.0.1/'],
  ['CGNAT', 'http://100.64.0.1/'],
  ['link-local', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
  ['link-local', 'http://169.254.0.1/'],
  ['IPv6 loopback', 'http://[::1]:{port}/'],
  ['IPv6 loopback', 'http://[0:0:0:0:0:0:0:1]/'],
  ['IPv6 unspecified', 'http://[::]/'],
  ['IPv6 ULA', 'http://[fd00::1]/'],
  ['IPv6 ULA', 'http://[fc00::1]/'],
  ['IPv6 ULA', 'http://[fd12:3456:789a::1]/'],
  ['IPv6 link-local', 'http://[fe80::1]/'],
  ['IPv4-mapped', 'http://[::ffff:127.0.0.1]:{port}/'],
  ['IPv4-mapped', 'http://[::ffff:7f00:1]/'],
  ['IPv4-mapped', 'http://[::ffff:169.254.169.254]/'],
  ['IPv4-mapped', 'http://[::ffff:a9fe:a9fe]/'],
  ['IPv4-mapped', 'http://[::ffff:10.0.0.1]/'],
  ['IPv4-mapped', 'http://[::ffff:192.168.1.1]/'],
  ['IPv4-compatible', 'http://[::127.0.0.1]/'],
  ['NAT64', 'http://[64:ff9b::a9fe:a9fe]/'],
  ['6to4', 'http://[2002:7f00:1::]/'],
  ['decimal', 'http://2130706433:{port}/'],
  ['decimal', 'http://2852039166/latest/meta-data/'],
  ['decimal', 'http://167772161/'],
  ['decimal', 'http://3232235777/'],
  ['octal', 'http://0177.0.0.1/'],
  ['octal', 'http://0251.0376.0251.0376/'],
  ['octal', 'http://012.0.0.1/'],
  ['octal', 'http://0300.0250.0.1/'],
  ['hex', 'http://0x7f000001/'],
  ['hex', 'http://0xa9fea9fe/'],
  ['hex', 'http://0x7f.0.0.1/'],
  ['mixed notation', 'http://0xa9.254.0251.0376/'],
  ['short form', 'http://10.1/'],
  ['percent-encoded', 'http://%31%32%37.0.0.1/'],
  ['local name', 'http://localhost:{port}/'],
  ['local name', 'http://LOCALHOST./'],
  ['local name', 'http://metadata.localhost/'],
];

describeReliability('SSRF: refused by default', () => {
  let hy: TestHookyard;
  let receiver: Receiver;
  let app: string;
  let port: string;
  let appKey: { id: string; token: string };
  const refusedAtCreation: string[] = [];
  const refusedAtConnect: string[] = [];

  beforeAll(async () => {
    receiver = await Receiver.start();
    port = new URL(receiver.url).port;
    hy = await startTestHookyard({
      // Unset: the default applies.
      HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: '',
      HOOKYARD_RETRY_SCHEDULE: '100ms',
      // Configured by an operator, not through the API: still refused when delivering.
      HOOKYARD_OPERATIONAL_WEBHOOK_URL: 'http://169.254.169.254/latest/meta-data/',
    });
    expect(hy.hookyard.services.config.allowPrivateDestinations).toBe(false);
    app = (await hy.api('POST', '/api/v1/apps', { name: 'ssrf' })).body.id;
    appKey = (await hy.api('POST', `/api/v1/apps/${app}/keys`, {})).body;
  });
  afterAll(async () => {
    await hy?.stop();
    await receiver?.close();
  });

  it('refuses every literal form on every surface that takes a URL', async () => {
    const placeholder = (await hy.api('POST', `/api/v1/apps/${app}/endpoints`, { url: 'https://example.com/hook' })).body.id as string;
    const basic = { authorization: `Basic ${Buffer.from(`${appKey.id}:${appKey.token}`).toString('base64')}` };
    const surfaces: Array<[string, (url: string, i: number) => Promise<{ status: number; body: any }>]> = [
      ['create endpoint', (url) => hy.api('POST', `/api/v1/apps/${app}/endpoints`, { url })],
      ['update endpoint', (url) => hy.api('PATCH', `/api/v1/apps/${app}/endpoints/${placeholder}`, { url })],
      ['source forward', (url, i) => hy.api('POST', '/api/v1/sources', { name: `fwd-${i}`, forward: [{ url }] })],
      ['Polar registration', (url) => hy.api('POST', '/v3/webhooks', { events: ['x'], url }, { token: null, headers: basic })],
    ];
    const failures: string[] = [];
    for (const [index, [kind, template]] of LITERALS.entries()) {
      const url = template.replace('{port}', port);
      for (const [surface, attempt] of surfaces) {
        const res = await attempt(url, index);
        if (res.status !== 422 || res.body?.code !== 'unsafe_destination') failures.push(`${surface} ${url} (${kind}): ${res.status} ${JSON.stringify(res.body)}`);
        else refusedAtCreation.push(kind);
      }
    }
    expect(failures).toEqual([]);
    // Nothing was created or changed on the way.
    const endpoints = await listAll(hy.url, ADMIN_TOKEN, `/api/v1/apps/${app}/endpoints`);
    expect(endpoints.map((e) => e.url)).toEqual(['https://example.com/hook']);
    expect(await listAll(hy.url, ADMIN_TOKEN, '/api/v1/sources')).toEqual([]);
    await hy.api('DELETE', `/api/v1/apps/${app}/endpoints/${placeholder}`);
  });

  it('refuses at connect time DNS names that resolve to private addresses, for messages and source forwards', async () => {
    const names = Object.keys(RESOLVES.table);
    // This machine's own name resolves locally (/etc/hosts) to a loopback or private address.
    const own = hostname();
    if (isForbiddenAddress((await lookup(own)).address)) names.push(own);
    const urls = names.map((name) => `http://${name}:${port}/hook?x=1`);
    const endpointIds = new Map<string, string>();
    for (const url of urls) {
      const res = await hy.api('POST', `/api/v1/apps/${app}/endpoints`, { url });
      // A name cannot be judged until it is resolved, so it is accepted here and judged when connecting.
      expect({ url, status: res.status }).toEqual({ url, status: 201 });
      endpointIds.set(res.body.id, url);
    }
    const forward = await hy.api('POST', '/api/v1/sources', { name: 'forwarder', forward: [{ url: `http://metadata.ssrf.test:${port}/forwarded` }] });
    expect(forward.status).toBe(201);
    expect((await fetch(`${hy.url}/in/forwarder`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"forward":"me"}' })).status).toBe(202);
    const message = (await hy.api('POST', `/api/v1/apps/${app}/messages`, { eventType: 'ssrf.probe', payload: { steal: 'credentials' } })).body.id as string;

    // Every delivery is tried on the schedule (the first attempt and one retry), refused each time, and ends failed.
    const deliveries = async (appId: string, messageId: string) => (await hy.api('GET', `/api/v1/apps/${appId}/messages/${messageId}/deliveries`)).body.data as any[];
    await waitUntil('every delivery failed', async () => (await deliveries(app, message)).every((d) => d.status === 'failed'), 20_000);
    const attempts = await listAll(hy.url, ADMIN_TOKEN, `/api/v1/apps/${app}/messages/${message}/attempts`);
    expect(attempts).toHaveLength(2 * urls.length);
    for (const attempt of attempts) {
      expect({ url: attempt.url, status: attempt.status, code: attempt.responseStatusCode }).toEqual({ url: attempt.url, status: 'failed', code: null });
      expect(attempt.error).toMatch(/^destination_refused: refused to deliver to /);
      // The message names host and address, never the path or query (they often carry tokens).
      expect(attempt.error).not.toContain('/hook');
      refusedAtConnect.push(new URL(attempt.url).hostname);
    }
    expect(new Set(attempts.map((a) => a.endpointId))).toEqual(new Set(endpointIds.keys()));

    // The source's forward lives in a hidden app; its delivery is refused the same way.
    const forwardApp = `hookyard-forward-${forward.body.id}`;
    await waitUntil('the forward refused', async () => {
      const [msg] = await listAll(hy.url, ADMIN_TOKEN, `/api/v1/apps/${forwardApp}/messages`);
      return msg !== undefined && (await deliveries(forwardApp, msg.id)).every((d) => d.status === 'failed');
    }, 20_000);
    const [forwarded] = await listAll(hy.url, ADMIN_TOKEN, `/api/v1/apps/${forwardApp}/messages`);
    for (const attempt of await listAll(hy.url, ADMIN_TOKEN, `/api/v1/apps/${forwardApp}/messages/${forwarded.id}/attempts`)) {
      expect(attempt.error).toMatch(/^destination_refused: refused to deliver to metadata\.ssrf\.test \(169\.254\.169\.254\)/);
    }

    // The exhausted deliveries raised operational events, whose endpoint (an operator's link-local URL) is refused too.
    await waitUntil('operational deliveries refused', async () => {
      const sent = await listAll(hy.url, ADMIN_TOKEN, '/api/v1/apps/hookyard-operational/messages');
      if (sent.length === 0) return false;
      const states = await Promise.all(sent.map((m) => deliveries('hookyard-operational', m.id)));
      return states.flat().every((d) => d.status === 'failed');
    }, 20_000);
    const operational = await listAll(hy.url, ADMIN_TOKEN, '/api/v1/apps/hookyard-operational/messages');
    for (const m of operational) {
      for (const attempt of await listAll(hy.url, ADMIN_TOKEN, `/api/v1/apps/hookyard-operational/messages/${m.id}/attempts`)) {
        expect(attempt.error).toMatch(/^destination_refused: refused to deliver to 169\.254\.169\.254/);
      }
    }

    // Every fake name was really looked up (the stand-in resolver was used), and nothing reached the receiver.
    for (const name of Object.keys(RESOLVES.table)) expect({ name, asked: (RESOLVES.asked.get(name) ?? 0) > 0 }).toEqual({ name, asked: true });
    expect(receiver.received).toEqual([]);
    report('ssrf', {
      literalsRefusedAtCreation: tally(refusedAtCreation),
      literalForms: LITERALS.length,
      surfaces: 4,
      dnsNamesRefusedAtConnect: tally(refusedAtConnect),
      operationalEventsRefused: operational.length,
      requestsThatReachedTheReceiver: receiver.received.length,
    });
  });
});

/*
 * Redirects. With private destinations refused, no test receiver can be reached at all (every address of this
 * machine is loopback or reserved), so redirects are checked with them allowed: the rule is the same code path (the
 * HTTP client never follows a redirect), and a 3xx is a failed attempt, retried and then failed like any other.
 */
describeReliability('SSRF: redirects are never followed', () => {
  let hy: TestHookyard;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await Receiver.start();
    hy = await startTestHookyard({ HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: 'true', HOOKYARD_RETRY_SCHEDULE: '100ms' });
  });
  afterAll(async () => {
    await hy?.stop();
    await receiver?.close();
  });

  it('treats 301, 302, 303, 307 and 308 to internal targets as failures and never requests the Location', async () => {
    const app = (await hy.api('POST', '/api/v1/apps', { name: 'redirects' })).body.id as string;
    const targets = [`${receiver.url}/internal`, 'http://169.254.169.254/latest/meta-data/', `http://[::1]:${new URL(receiver.url).port}/internal`];
    const cases: Array<{ code: number; location: string; path: string }> = [];
    for (const code of [301, 302, 303, 307, 308]) {
      for (const [i, location] of targets.entries()) {
        const path = `/redirect/${code}/${i}`;
        receiver.on(path, (_req, res) => res.writeHead(code, { location }).end());
        cases.push({ code, location, path });
        expect((await hy.api('POST', `/api/v1/apps/${app}/endpoints`, { url: `${receiver.url}${path}`, eventTypes: [`r.${code}.${i}`] })).status).toBe(201);
      }
    }
    const sent = await Promise.all(cases.map(async (c) => ({ ...c, id: (await hy.api('POST', `/api/v1/apps/${app}/messages`, { eventType: `r.${c.path.split('/').slice(2).join('.')}`, payload: {} })).body.id as string })));
    for (const c of sent) {
      await waitUntil(`${c.path} failed`, async () => (await hy.api('GET', `/api/v1/apps/${app}/messages/${c.id}/deliveries`)).body.data[0]?.status === 'failed', 20_000);
      const attempts = (await hy.api('GET', `/api/v1/apps/${app}/messages/${c.id}/attempts`)).body.data as any[];
      expect(attempts.map((a) => [a.status, a.responseStatusCode, a.error])).toEqual([['failed', c.code, `HTTP ${c.code}`], ['failed', c.code, `HTTP ${c.code}`]]);
      expect(receiver.at(c.path)).toHaveLength(2);
    }
    expect(receiver.at('/internal')).toEqual([]);
    expect(receiver.received.filter((r) => !r.path.startsWith('/redirect/'))).toEqual([]);
  });
});
