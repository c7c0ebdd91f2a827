import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SVIX_PREFIXES } from '../../src/api/svix/index.js';
import { ERROR_CODES } from '../../src/errors.js';
import { spawnServer, type ChildServer } from '../helpers/child.js';
import { Receiver } from '../helpers/receiver.js';
import { AUTHS, expandDeep, GH_SECRET, MAX_BODY, planArbitrary, useSink, type Operation, type ParamPlan, type Plan } from './fuzz-plans.js';
import { call, describeReliability, jsonOr, report, SEED, tally } from './support.js';

/*
 * Property-based fuzzing of everything a `hookyard serve` child process answers: every management API operation
 * (taken from its OpenAPI document, so new routes are fuzzed too) with hostile path parameters, queries, bodies,
 * content types and credentials, the receiving URLs with hostile bodies, headers and signatures, and the other
 * routes. Requests go out in concurrent batches; ids the server hands out go back into the pool, so later requests
 * reach real resources. The property: every request gets an answer below 500 (an oversized body may instead see its
 * connection closed), an API error has the `{code, message}` shape with a registered code, and after it all the
 * process is alive, healthy, and has logged no error. Reproduce with HOOKYARD_RELIABILITY_SEED=<seed>.
 *
 * test/inbound-fuzz.test.ts covers the HTTP layer itself (raw bytes over TCP); this covers the routes behind it.
 */

/** Planned; a few are refused by the client itself (fetch will not send every header value). */
const REQUESTS = 12_000;
/** The issue's bar: at least this many reach the server, in both profiles (it takes ~15 s). */
const MIN_SENT = 10_000;
const BATCH = 25;
const TOKEN = 'fuzz-reliability-admin-token';
const BASIC = { username: 'fuzz', password: 'fuzz-password' };

/** Fetch failures that come from the server's side of the connection (anything else is the client refusing). */
const SERVER_SIDE = /ECONNRESET|EPIPE|ECONNREFUSED|UND_ERR_SOCKET|UND_ERR_CLOSED|other side closed/;

const POOL_KEYS = ['app', 'ep', 'msg', 'key', 'src', 'req', 'name', 'id'] as const;
type PoolKey = (typeof POOL_KEYS)[number];

/** A path of the Svix-compatible API (src/api/svix), which answers errors in Svix's shapes. */
const isSvixPath = (path: string): boolean => {
  // As the server sees it: fetch resolves dot segments (`/api/v1/sources/../stream` is a request for /api/v1/stream).
  const bare = new URL(path, 'http://fuzz.invalid').pathname;
  return bare === '/api/v1/health' || SVIX_PREFIXES.some((prefix) => {
    const root = prefix.replace(/\/\*$/, '');
    return bare === root || bare.startsWith(`${root}/`);
  });
};

/** Svix's 422 detail: `[{loc: [...], msg, type}]`. */
const isSvixValidation = (detail: unknown): boolean =>
  Array.isArray(detail) && detail.length > 0 && detail.every((d: { loc?: unknown; msg?: unknown; type?: unknown }) =>
    Array.isArray(d?.loc) && typeof d.msg === 'string' && typeof d.type === 'string');

describeReliability('fuzz: hostile API and inbound requests', () => {
  let dir: string;
  let server: ChildServer;
  let sink: Receiver;
  let operations: Operation[];
  const pools: Record<PoolKey, string[]> = { app: [], ep: [], msg: [], key: [], src: [], req: [], name: [], id: [] };
  const tokens: string[] = [];
  let keyA: { id: string; token: string };
  let revoked = '';

  const remember = (pool: PoolKey, value: unknown) => {
    if (typeof value !== 'string' || value === '' || pools[pool].includes(value)) return;
    pools[pool].push(value);
    if (pools[pool].length > 60) pools[pool].splice(4, 1); // keep the fixtures (first entries) and the newest
  };
  /** Ids in any answer go back into the pools. */
  const harvest = (body: unknown) => {
    const items = Array.isArray((body as { data?: unknown })?.data) ? (body as { data: unknown[] }).data : [(body as { data?: unknown })?.data ?? body];
    for (const item of items.slice(0, 5)) {
      if (item === null || typeof item !== 'object') continue;
      const { id, uid, name: itemName, token } = item as Record<string, unknown>;
      const prefix = typeof id === 'string' ? id.split('_')[0] : undefined;
      if (prefix === 'app') { remember('app', id); remember('app', uid); }
      if (prefix === 'ep') { remember('ep', id); remember('id', id); }
      if (prefix === 'msg') remember('msg', id);
      if (prefix === 'key') { remember('key', id); if (typeof token === 'string' && !tokens.includes(token)) tokens.push(token); }
      if (prefix === 'src') { remember('src', id); remember('src', itemName); }
      if (prefix === 'req') remember('req', id);
      if (id === undefined && typeof itemName === 'string') remember('name', itemName);
    }
  };

  const pick = (list: string[], n: number) => (list.length === 0 ? 'none' : list[n % list.length]!);
  /** The fixtures survive: a DELETE never names them (anything else may happen to them). Kept URL-encoded. */
  const fixtures = new Set<string>();
  const fillParam = (plan: ParamPlan, pool: PoolKey | 'sourceName'): string => {
    // Receiving URLs take a source's name, never its id.
    if (pool === 'sourceName') return plan.kind === 'pool' ? encodeURIComponent(pick(pools.src.filter((v) => !v.startsWith('src_')), plan.n)) : fillParam(plan, 'src');
    if (plan.kind === 'pool') return encodeURIComponent(pick(pools[pool], plan.n));
    if (plan.kind === 'other') return encodeURIComponent(pick(pools[POOL_KEYS[plan.n % POOL_KEYS.length]!], plan.n));
    return plan.kind === 'encoded' ? encodeURIComponent(plan.s) : plan.s;
  };
  const authHeader = (a: (typeof AUTHS)[number], n: number): Record<string, string> => {
    switch (a) {
      case 'admin': return { authorization: `Bearer ${TOKEN}` };
      case 'key': return { authorization: `Bearer ${keyA.token}` };
      case 'otherKey': return { authorization: `Bearer ${pick(tokens, n)}` };
      case 'revoked': return { authorization: `Bearer ${revoked}` };
      case 'garbage': return { authorization: 'Bearer hy_app_0000000000000000000000000000000000000000000' };
      case 'none': return {};
      case 'basic': return { authorization: `Basic ${Buffer.from(`${keyA.id}:${keyA.token}`).toString('base64')}` };
      case 'lowercase': return { authorization: `bearer   ${TOKEN}  ` };
      case 'empty': return { authorization: 'Bearer ' };
      case 'long': return { authorization: `Bearer ${'x'.repeat(9_000)}` };
    }
  };

  /** The request a plan stands for, with the pools as they are now. */
  function materialise(plan: Plan): { label: string; path: string; init: RequestInit & { headers: Record<string, string> }; oversized: boolean } {
    if (plan.kind === 'other') return { label: 'other', path: plan.path, init: { method: plan.method, headers: {} }, oversized: false };
    if (plan.kind === 'inbound') {
      const source = fillParam(plan.source, 'sourceName');
      const headers: Record<string, string> = Object.fromEntries(plan.headers);
      if (plan.contentType !== undefined) headers['content-type'] = plan.contentType;
      if (plan.sign) {
        headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', GH_SECRET).update(plan.body.data).digest('hex')}`;
        headers.authorization = `Basic ${Buffer.from(`${BASIC.username}:${BASIC.password}`).toString('base64')}`;
      }
      const bodyless = plan.method === 'GET' || plan.method === 'HEAD';
      return {
        label: `inbound ${plan.method}`,
        path: `${plan.prefix}/${source}${plan.sub}${plan.query}`,
        init: { method: plan.method, headers, body: bodyless ? undefined : plan.body.data },
        oversized: !bodyless && plan.body.data.length > MAX_BODY,
      };
    }
    const operation = operations[plan.op]!;
    let index = 0;
    const path = operation.path.replace(/\{(\w+)\}/g, (_m, p: string) => {
      const value = fillParam(plan.params[index++]!, (POOL_KEYS as readonly string[]).includes(p) ? (p as PoolKey) : 'id');
      return plan.method === 'DELETE' && fixtures.has(value) ? 'fixture' : value;
    });
    const headers: Record<string, string> = { ...Object.fromEntries(plan.headers), ...authHeader(plan.auth, plan.op) };
    if (plan.idempotencyKey !== null) headers['idempotency-key'] = plan.idempotencyKey;
    // HEAD on the live stream is never answered (a bug, pinned below): GET it instead.
    const method = plan.method === 'HEAD' && operation.path.endsWith('/stream') ? 'GET' : plan.method;
    const bodyless = method === 'GET' || method === 'HEAD';
    let body: Buffer | string | undefined;
    if (!bodyless && plan.body === 'raw') body = plan.raw.data;
    else if (!bodyless && typeof plan.body === 'object') body = expandDeep(JSON.stringify(plan.body));
    if (body !== undefined) headers['content-type'] = plan.contentType ?? 'application/json';
    return { label: `api ${operation.method === method ? operation.path : '(other method)'}`, path: `${path}${plan.query}`, init: { method, headers, body }, oversized: body !== undefined && body.length > MAX_BODY };
  }

  const statuses: string[] = [];
  let sent = 0;
  let unsendable = 0;

  /** Sends one request; returns what is wrong with the answer, if anything. */
  async function run(plan: Plan): Promise<string | null> {
    const { label, path, init, oversized } = materialise(plan);
    let response: Response;
    try {
      response = await fetch(`${server.url}${path}`, { ...init, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError') return `${label} ${path.slice(0, 120)}: no answer within 10 s`;
      if (e.message !== 'fetch failed' || !SERVER_SIDE.test(`${e.cause?.code} ${e.cause?.message}`)) {
        unsendable++; // the client refused to send it (an invalid header, method or URL)
        return null;
      }
      sent++;
      statuses.push('closed');
      // A body over the limit is answered 413 early; the connection may close before the client finished sending.
      return oversized ? null : `${label} ${path.slice(0, 120)}: connection failed (${e.cause?.code ?? e.message})`;
    }
    sent++;
    const isStream = response.headers.get('content-type')?.startsWith('text/event-stream') === true;
    const text = isStream ? (await response.body?.cancel(), '') : await response.text();
    statuses.push(String(response.status));
    const parsed = jsonOr(text, undefined);
    if (response.status < 300) harvest(parsed);
    const where = `${label} ${init.method} ${path.slice(0, 120)} → ${response.status} ${text.slice(0, 160)}`;
    if (response.status >= 500) return `5xx: ${where}`;
    if (path.startsWith('/api/') && response.status >= 400 && init.method !== 'HEAD') {
      const error = parsed as { code?: unknown; message?: unknown; detail?: unknown } | undefined;
      const registered = typeof error?.code === 'string' && error.code in ERROR_CODES;
      if (registered && typeof error.message === 'string') return null;
      // The Svix-compatible routes answer Svix's shapes (a request the router refuses first still gets Hookyard's).
      if (isSvixPath(path) && (registered ? typeof error.detail === 'string' : response.status === 422 && isSvixValidation(error?.detail))) return null;
      return `not a {code, message} error: ${where}`;
    }
    return null;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookyard-reliability-fuzz-'));
    mkdirSync(join(dir, 'handlers'));
    writeFileSync(join(dir, 'handlers', 'fuzz.mjs'), `export default async (ctx) => {
      const body = ctx.request.body;
      await ctx.db.collection('fuzz').insert({ kind: body === null ? 'null' : typeof body, bytes: ctx.request.rawBody.length });
      return { ok: true, bytes: ctx.request.rawBody.length };
    };`);
    sink = await Receiver.start();
    useSink(sink.url);
    server = await spawnServer({
      HOOKYARD_DATABASE_URL: join(dir, 'hookyard.db'),
      HOOKYARD_ADMIN_TOKEN: TOKEN,
      HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: 'true',
      HOOKYARD_MAX_BODY_BYTES: String(MAX_BODY),
      HOOKYARD_SQLITE_SYNCHRONOUS: 'normal',
      HOOKYARD_RETRY_SCHEDULE: '500ms',
      HOOKYARD_DELIVERY_TIMEOUT_MS: '2000',
      HOOKYARD_HANDLER_TIMEOUT_MS: '2000',
    }, dir);
    const admin = (method: string, path: string, body?: unknown) => call(server.url, TOKEN, method, path, body);
    for (const uid of ['fz-a', 'fz-b']) {
      const app = (await admin('POST', '/api/v1/apps', { name: uid, uid })).body;
      harvest(app);
      harvest((await admin('POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${sink.url}/${uid}` })).body);
      harvest((await admin('POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'fz.schema', payload: { n: 1 } })).body);
      const key = (await admin('POST', `/api/v1/apps/${app.id}/keys`, {})).body;
      harvest(key);
      keyA ??= key;
    }
    const toRevoke = (await admin('POST', `/api/v1/apps/${pools.app[0]}/keys`, {})).body;
    revoked = toRevoke.token;
    expect((await admin('DELETE', `/api/v1/apps/${pools.app[0]}/keys/${toRevoke.id}`)).status).toBe(204);
    harvest((await admin('POST', '/api/v1/event-types', { name: 'fz.schema', schema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } })).body);
    const sources: Array<Record<string, unknown>> = [
      { name: 'plain', methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
      { name: 'github', verification: { type: 'github', secret: GH_SECRET } },
      { name: 'basic', verification: { type: 'basic', ...BASIC } },
      { name: 'dedup', dedup: { header: 'x-delivery-id' } },
      { name: 'jsonpath', dedup: { jsonPath: '$.id' } },
      { name: 'allow', ipAllowlist: ['10.0.0.0/8'] },
      { name: 'fixed', response: { mode: 'sync', status: 200, body: { ok: true } } },
      { name: 'handled', handler: 'fuzz', response: { mode: 'sync' } },
      { name: 'queued', handler: 'fuzz', forward: [{ url: `${sink.url}/forward` }, { app: 'fz-a', eventType: 'fz.forwarded' }] },
    ];
    for (const source of sources) harvest((await admin('POST', '/api/v1/sources', source)).body);
    for (const pool of POOL_KEYS) for (const value of pools[pool]) fixtures.add(encodeURIComponent(value));
    const doc = (await admin('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { properties?: object; required?: string[] } }> } }>> };
    operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => {
      const schema = op.requestBody?.content?.['application/json']?.schema ?? {};
      return { method: method.toUpperCase(), path, fields: Object.keys(schema.properties ?? {}), required: schema.required ?? [] };
    }));
  });
  afterAll(async () => {
    server?.process.kill('SIGKILL');
    await sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`answers ${REQUESTS} hostile requests without a 5xx, a hang or a crash`, async () => {
    const started = Date.now();
    console.log(`fuzz: seed ${SEED} (reproduce with HOOKYARD_RELIABILITY_SEED=${SEED})`);
    // Not shrunk: the server keeps state between runs, so a smaller batch is not the same experiment. Each failure
    // names the request itself, which is the reproduction.
    const result = await fc.check(
      fc.asyncProperty(fc.array(planArbitrary(operations), { minLength: BATCH, maxLength: BATCH }), async (plans) => {
        const problems = (await Promise.all(plans.map(run))).filter((p): p is string => p !== null);
        if (problems.length > 0) throw new Error(problems.slice(0, 5).join('\n'));
      }),
      { numRuns: Math.ceil(REQUESTS / BATCH), seed: SEED | 0, endOnFailure: true },
    );
    if (result.failed) throw new Error(`seed ${SEED}, run ${result.numRuns}: ${(result.errorInstance as Error | null)?.message ?? String(result.errorInstance)}`);
    const elapsed = Date.now() - started;

    // The process is alive, healthy, and logged no error (level 50) or fatal (60) line.
    expect(server.process.exitCode, server.output().slice(-3000)).toBeNull();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const errorLines = server.output().split('\n').filter((line) => /"level":(50|60)/.test(line));
    expect(errorLines.slice(0, 5)).toEqual([]);
    expect(sent + unsendable).toBeGreaterThanOrEqual(REQUESTS);
    expect(sent).toBeGreaterThanOrEqual(MIN_SENT);
    report('fuzz', {
      requestsSent: sent,
      refusedByTheClient: unsendable,
      statuses: tally(statuses),
      operationsFuzzed: operations.length,
      idsHarvested: Object.fromEntries(POOL_KEYS.map((k) => [k, pools[k].length])),
      deliveriesToTheSink: sink.received.length,
      durationMs: elapsed,
      requestsPerSecond: Math.round(sent / (elapsed / 1000)),
    });
  }, 600_000);

  /*
   * Regressions found by this suite: a fixed `response.status` of 1xx left every sender without an answer (now refused
   * when the source is created); `HEAD …/stream` never answered (Node holds a HEAD response's headers until it ends);
   * paths the router refuses (a broken percent-escape, an over-long parameter) came back with Fastify's own body instead
   * of `{code, message}`; and event types and app uids of 101–256 characters could be created but not addressed
   * (Fastify's default maxParamLength is 100).
   */
  it('answers paths the router refuses with a registered error code', async () => {
    for (const [path, status, code] of [
      ['/api/v1/apps/%zz', 400, 'bad_request'],
      [`/api/v1/apps/${'a'.repeat(101)}`, 404, 'not_found'],
      [`/api/v1/apps/${'a'.repeat(1_025)}`, 414, 'uri_too_long'],
    ] as const) {
      const res = await call(server.url, TOKEN, 'GET', path);
      expect({ path: path.slice(0, 20), status: res.status, code: res.body?.code }).toEqual({ path: path.slice(0, 20), status, code });
      expect(Object.keys(ERROR_CODES)).toContain(res.body?.code);
    }
  });

  /*
   * BUG (src/server.ts: Fastify's default maxParamLength of 100, against src/api/schemas.ts:15 and :260 which accept
   * event type names and app uids up to 256 characters): such an event type or app is created (201) but can never be
   * read, updated or deleted by that name (414 FST_ERR_MAX_PARAM_LENGTH). One request after
   * `POST /api/v1/event-types {"name":"<150 × e>"}`: `GET /api/v1/event-types/<150 × e>` → 414.
   */
  it('addresses event types and app uids as long as it accepts them (256 characters)', async () => {
    const long = 'e'.repeat(150);
    expect((await call(server.url, TOKEN, 'POST', '/api/v1/event-types', { name: long })).status).toBe(201);
    expect((await call(server.url, TOKEN, 'POST', '/api/v1/apps', { name: 'long', uid: long })).status).toBe(201);
    expect((await call(server.url, TOKEN, 'GET', `/api/v1/event-types/${long}`)).status).toBe(200);
    expect((await call(server.url, TOKEN, 'GET', `/api/v1/apps/${long}`)).status).toBe(200);
  });

  it('answers HEAD on the live stream', async () => {
    // Its own source: the fuzz run above may have deleted any source it harvested, `plain` included.
    expect((await call(server.url, TOKEN, 'POST', '/api/v1/sources', { name: 'head-stream' })).status).toBe(201);
    const res = await fetch(`${server.url}/api/v1/sources/head-stream/stream`, { method: 'HEAD', headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(3_000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
  });

  it('refuses a fixed response with a 1xx status, which would leave the sender without an answer', async () => {
    const created = await call(server.url, TOKEN, 'POST', '/api/v1/sources', { name: 'informational', response: { mode: 'sync', status: 103, body: 'x' } });
    expect(created.status).toBe(422);
    expect(created.body?.code).toBe('validation_error');
  });
});
