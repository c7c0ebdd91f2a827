import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Rng } from '../helpers/fuzz-wire.js';
import { ADMIN_TOKEN, startTestHookyard, type TestHookyard } from '../helpers/hookyard.js';
import { Receiver, type Received } from '../helpers/receiver.js';
import { describeReliability, listAll, report, scale, SEED, sleep, tally, waitUntil } from './support.js';

/*
 * A receiver that misbehaves on purpose. Every (message, endpoint) gets a script: what the receiver does at its first,
 * second, third and fourth attempt (random 2xx, 500s, 429 and 503 with Retry-After, timeouts, connection resets, slow
 * bodies that finish in time or do not, redirects, 410). From the script and the delivery rules alone the test
 * knows how each delivery must end, how many attempts it takes and what each attempt records:
 *
 *   2xx within the timeout succeeds; 410 fails at once and disables the endpoint; anything else (3xx included, never
 *   followed) is retried on HOOKYARD_RETRY_SCHEDULE, Retry-After on 429/503 replacing the delay; after the last
 *   scheduled attempt the delivery is failed (exhausted).
 */

const SCHEDULE_MS = [100, 200, 300];
const MAX_ATTEMPTS = SCHEDULE_MS.length + 1;
const TIMEOUT_MS = 800;
const MESSAGES = scale(200, 80);
const CHAOS_ENDPOINTS = 3;
const GONE_ENDPOINTS = scale(8, 4);

type Behaviour =
  | 'ok' | 'ok-slow-body' | 'error-500' | 'error-502' | 'error-400' | 'error-404'
  | 'retry-after-429' | 'retry-after-503' | 'timeout' | 'slow-body-timeout' | 'reset' | 'redirect' | 'gone';

const SUCCEEDS = new Set<Behaviour>(['ok', 'ok-slow-body']);
const RETRY_AFTER = new Set<Behaviour>(['retry-after-429', 'retry-after-503']);
const TWO_XX = [200, 201, 202, 204];
const REDIRECTS = [301, 302, 303, 307, 308];
/** The Location of every redirect: nothing may ever arrive there. */
const REDIRECT_TARGET = '/redirect-target';

/** What the attempt record must say for each behaviour (status code null: no response within the timeout). */
const RECORDED: Record<Behaviour, { status: 'success' | 'failed'; code: number | null | 'redirect' | '2xx'; error?: RegExp }> = {
  ok: { status: 'success', code: '2xx' },
  'ok-slow-body': { status: 'success', code: 200 },
  'error-500': { status: 'failed', code: 500, error: /^HTTP 500$/ },
  'error-502': { status: 'failed', code: 502, error: /^HTTP 502$/ },
  'error-400': { status: 'failed', code: 400, error: /^HTTP 400$/ },
  'error-404': { status: 'failed', code: 404, error: /^HTTP 404$/ },
  'retry-after-429': { status: 'failed', code: 429 },
  'retry-after-503': { status: 'failed', code: 503 },
  timeout: { status: 'failed', code: null, error: /^timeout: / },
  'slow-body-timeout': { status: 'failed', code: null, error: /^timeout: / },
  reset: { status: 'failed', code: null, error: /^connection_error: / },
  redirect: { status: 'failed', code: 'redirect', error: /^HTTP 30\d$/ },
  gone: { status: 'failed', code: 410, error: /^HTTP 410$/ },
};

const CHAOS_WEIGHTS: ReadonlyArray<readonly [number, Behaviour]> = [
  [14, 'ok'], [4, 'ok-slow-body'], [10, 'error-500'], [3, 'error-502'], [3, 'error-400'], [3, 'error-404'],
  [4, 'retry-after-429'], [3, 'retry-after-503'], [5, 'timeout'], [4, 'slow-body-timeout'], [8, 'reset'], [5, 'redirect'],
];

/** How a script must end, by the rules. */
function expectedEnd(script: readonly Behaviour[]): { status: 'succeeded' | 'failed'; attempts: number; gone: boolean } {
  for (const [index, behaviour] of script.entries()) {
    if (SUCCEEDS.has(behaviour)) return { status: 'succeeded', attempts: index + 1, gone: false };
    if (behaviour === 'gone') return { status: 'failed', attempts: index + 1, gone: true };
  }
  return { status: 'failed', attempts: MAX_ATTEMPTS, gone: false };
}

/** A body that trickles out in pieces, `everyMs` apart; stops if the client goes away. */
function trickle(res: ServerResponse, pieces: number, everyMs: number): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  let sent = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    res.write(`piece ${sent}\n`);
    if (++sent === pieces) {
      clearInterval(timer);
      res.end();
    }
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}

interface Delivery {
  messageId: string;
  endpointId: string;
  path: string;
  script: Behaviour[];
}

describeReliability('chaos receiver: every delivery ends as the rules say', () => {
  let hy: TestHookyard;
  let receiver: Receiver;
  const rng = new Rng(SEED ^ 0xc4a05);
  /** The receiver's own choices (which 2xx, which redirect), apart: it draws in arrival order, which timing decides. */
  const replies = new Rng(SEED ^ 0x2e91);
  /** "<payload key> <path>" → the script for that delivery. */
  const scripts = new Map<string, Behaviour[]>();

  const respond = (path: string) => (request: Received, res: ServerResponse) => {
    const messageId = String(request.headers['webhook-id']);
    const script = scripts.get(`${(JSON.parse(request.body) as { key: string }).key} ${path}`);
    const attempt = receiver.at(path).filter((r) => r.headers['webhook-id'] === messageId).length;
    const behaviour = script?.[attempt - 1];
    switch (behaviour) {
      case 'ok': return void res.writeHead(replies.pick(TWO_XX)).end();
      case 'ok-slow-body': return trickle(res, 3, TIMEOUT_MS / 10);
      case 'error-500': return void res.writeHead(500).end('boom');
      case 'error-502': return void res.writeHead(502).end('bad gateway');
      case 'error-400': return void res.writeHead(400).end('{"error":"bad"}');
      case 'error-404': return void res.writeHead(404).end();
      case 'retry-after-429': return void res.writeHead(429, { 'retry-after': '1' }).end();
      // An HTTP date two seconds ahead (whole seconds: between 1 and 2 s from now).
      case 'retry-after-503': return void res.writeHead(503, { 'retry-after': new Date(Date.now() + 2_000).toUTCString() }).end();
      case 'timeout': return; // never answers; Hookyard gives up and closes the connection
      case 'slow-body-timeout': return trickle(res, 20, TIMEOUT_MS / 4);
      case 'reset': return void res.socket?.resetAndDestroy();
      case 'redirect': return void res.writeHead(replies.pick(REDIRECTS), { location: `${receiver.url}${REDIRECT_TARGET}` }).end();
      case 'gone': return void res.writeHead(410).end();
      // Beyond its script: an attempt the rules do not allow. Answered, and caught by the attempt counts.
      default: return void res.writeHead(299).end('unexpected attempt');
    }
  };

  beforeAll(async () => {
    receiver = await Receiver.start();
    hy = await startTestHookyard({
      HOOKYARD_RETRY_SCHEDULE: SCHEDULE_MS.map((ms) => `${ms}ms`).join(','),
      HOOKYARD_DELIVERY_TIMEOUT_MS: String(TIMEOUT_MS),
    });
  });
  afterAll(async () => {
    await hy?.stop();
    await receiver?.close();
  });

  it(`${MESSAGES} messages × ${CHAOS_ENDPOINTS} chaotic endpoints, and ${GONE_ENDPOINTS} endpoints that answer 410`, async () => {
    const started = Date.now();
    const app = (await hy.api('POST', '/api/v1/apps', { name: 'chaos' })).body.id as string;
    const endpointAt = new Map<string, string>();
    const create = async (path: string, eventTypes: string[]) => {
      receiver.on(path, respond(path));
      const res = await hy.api('POST', `/api/v1/apps/${app}/endpoints`, { url: `${receiver.url}${path}`, eventTypes });
      expect(res.status).toBe(201);
      endpointAt.set(path, res.body.id);
    };
    const chaosPaths = Array.from({ length: CHAOS_ENDPOINTS }, (_, i) => `/chaos/${i}`);
    for (const path of chaosPaths) await create(path, ['chaos']);
    const gonePaths = Array.from({ length: GONE_ENDPOINTS }, (_, i) => `/gone/${i}`);
    for (const [i, path] of gonePaths.entries()) await create(path, [`gone.${i}`]);

    // Scripts are keyed by a field of the payload, so the receiver knows each one before the first attempt arrives.
    const deliveries: Delivery[] = [];
    const send = async (eventType: string, paths: string[], makeScript: () => Behaviour[]) => {
      const key = `m${scripts.size}`;
      const planned = paths.map((path) => {
        const script = makeScript();
        scripts.set(`${key} ${path}`, script);
        return script;
      });
      const res = await hy.api('POST', `/api/v1/apps/${app}/messages`, { eventType, payload: { key } });
      expect(res.status).toBe(202);
      paths.forEach((path, i) => deliveries.push({ messageId: res.body.id, endpointId: endpointAt.get(path)!, path, script: planned[i]! }));
    };
    const chaosScript = () => Array.from({ length: MAX_ATTEMPTS }, () => rng.weighted(CHAOS_WEIGHTS));
    for (let i = 0; i < MESSAGES; i++) await send('chaos', chaosPaths, chaosScript);
    // A 410 after 0 to 2 ordinary failures.
    for (const [i, path] of gonePaths.entries()) {
      await send(`gone.${i}`, [path], () => [...Array.from({ length: i % 3 }, () => rng.pick<Behaviour>(['error-500', 'reset', 'timeout'])), 'gone']);
    }

    // Wait until every delivery is final.
    const states = new Map<string, { status: string; attempts: number }>();
    const isFinal = (key: string) => ['succeeded', 'failed'].includes(states.get(key)?.status ?? '');
    const unfinished = async () => {
      for (const messageId of new Set(deliveries.filter((d) => !isFinal(`${d.messageId} ${d.endpointId}`)).map((d) => d.messageId))) {
        const res = await hy.api('GET', `/api/v1/apps/${app}/messages/${messageId}/deliveries`);
        for (const d of res.body.data as Array<{ endpointId: string; status: string; attempts: number }>) states.set(`${messageId} ${d.endpointId}`, d);
      }
      return deliveries.filter((d) => !isFinal(`${d.messageId} ${d.endpointId}`)).length;
    };
    await waitUntil('every delivery final', async () => (await unfinished()) === 0, 120_000, () => [...states.values()].filter((s) => !['succeeded', 'failed'].includes(s.status)).length, 500);
    // Anything the rules do not allow (an attempt after the end) would arrive now.
    await sleep(1_500);
    await unfinished();

    const failures: string[] = [];
    const attemptsOf = new Map<string, any[]>();
    for (const messageId of new Set(deliveries.map((d) => d.messageId))) {
      for (const attempt of await listAll(hy.url, ADMIN_TOKEN, `/api/v1/apps/${app}/messages/${messageId}/attempts`)) {
        attemptsOf.set(`${messageId} ${attempt.endpointId}`, [...(attemptsOf.get(`${messageId} ${attempt.endpointId}`) ?? []), attempt]);
      }
    }
    for (const d of deliveries) {
      const key = `${d.messageId} ${d.endpointId}`;
      const want = expectedEnd(d.script);
      const state = states.get(key);
      const label = `${d.path} ${d.messageId} [${d.script.slice(0, want.attempts).join(' → ')}]`;
      if (state?.status !== want.status || state.attempts !== want.attempts) failures.push(`${label}: ${state?.status}/${state?.attempts}, expected ${want.status}/${want.attempts}`);
      const received = receiver.at(d.path).filter((r) => r.headers['webhook-id'] === d.messageId);
      if (received.length !== want.attempts) failures.push(`${label}: the receiver saw ${received.length} attempts, expected ${want.attempts}`);
      const attempts = (attemptsOf.get(key) ?? []).sort((a, b) => a.attempt - b.attempt);
      if (attempts.length !== want.attempts) failures.push(`${label}: ${attempts.length} attempt records, expected ${want.attempts}`);
      for (const [index, attempt] of attempts.entries()) {
        const behaviour = d.script[index]!;
        const rule = RECORDED[behaviour];
        const codeOk = rule.code === '2xx' ? TWO_XX.includes(attempt.responseStatusCode)
          : rule.code === 'redirect' ? REDIRECTS.includes(attempt.responseStatusCode) : attempt.responseStatusCode === rule.code;
        const last = index === want.attempts - 1;
        if (attempt.attempt !== index + 1 || attempt.status !== rule.status || !codeOk || (rule.error && !rule.error.test(attempt.error ?? ''))
          || (last ? attempt.nextAttemptAt !== null : attempt.nextAttemptAt === null)) {
          failures.push(`${label}: attempt ${index + 1} (${behaviour}) recorded ${JSON.stringify({ n: attempt.attempt, status: attempt.status, code: attempt.responseStatusCode, error: attempt.error, next: attempt.nextAttemptAt })}`);
        }
      }
      // The wait before each retry: Retry-After (at least ~1 s) after 429/503, else the schedule's delay (±20%).
      for (let n = 1; n < received.length; n++) {
        const gap = received[n]!.at - received[n - 1]!.at;
        const behaviour = d.script[n - 1]!;
        const least = RETRY_AFTER.has(behaviour) ? 950 : 0.8 * SCHEDULE_MS[n - 1]! - 5;
        if (gap < least) failures.push(`${label}: retry ${n} came ${gap} ms after a ${behaviour}, expected ≥ ${least} ms`);
      }
    }

    // 410 disabled exactly the endpoints that got one; a later message is not fanned out to them.
    for (const [path, id] of endpointAt) {
      const endpoint = (await hy.api('GET', `/api/v1/apps/${app}/endpoints/${id}`)).body;
      const gone = path.startsWith('/gone/');
      if (endpoint.disabled !== gone || endpoint.disabledReason !== (gone ? 'gone' : null)) failures.push(`${path}: disabled=${endpoint.disabled} (${endpoint.disabledReason})`);
    }
    for (const [i] of gonePaths.entries()) {
      const after = await hy.api('POST', `/api/v1/apps/${app}/messages`, { eventType: `gone.${i}`, payload: {} });
      expect((await hy.api('GET', `/api/v1/apps/${app}/messages/${after.body.id}/deliveries`)).body.data).toEqual([]);
    }
    expect(receiver.at(REDIRECT_TARGET)).toEqual([]);
    expect(failures.slice(0, 20), `seed ${SEED}: ${failures.length} deliveries broke the rules`).toEqual([]);

    const ends = deliveries.map((d) => expectedEnd(d.script));
    report('chaos', {
      deliveries: deliveries.length,
      attempts: ends.reduce((sum, e) => sum + e.attempts, 0),
      behavioursServed: tally(deliveries.flatMap((d) => d.script.slice(0, expectedEnd(d.script).attempts))),
      ends: tally(ends.map((e) => (e.gone ? 'failed (410, endpoint disabled)' : e.status === 'failed' ? 'failed (exhausted)' : `succeeded at attempt ${e.attempts}`))),
      ruleViolations: failures.length,
      durationMs: Date.now() - started,
    });
  }, 300_000);
});
