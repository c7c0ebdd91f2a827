import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../src/crypto/secret-box.js';
import { isUtf8Text, parseBody, parseQuery } from '../src/inbound/body.js';
import { buildContext, type EmitFn, type HandlerContext } from '../src/inbound/handlers/context.js';
import { createDocumentDb, type DocumentDb } from '../src/inbound/handlers/documents.js';
import { HandlerLoader, type HandlerModule } from '../src/inbound/handlers/loader.js';
import { runHandler, toHttpResponse } from '../src/inbound/handlers/run.js';
import { openStore } from '../src/store/open-store.js';
import type { InboundRecord, Store } from '../src/store/store.js';

const dir = mkdtempSync(join(tmpdir(), 'hookyard-handlers-'));
const handlersDir = join(dir, 'handlers');
mkdirSync(handlersDir);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileClock = Math.floor(Date.now() / 1000) - 1000;

/** Writes a handler file with a strictly later mtime than the previous write, as an editor saving it would. */
function writeHandler(file: string, source: string): void {
  const path = join(handlersDir, file);
  writeFileSync(path, source);
  fileClock += 10;
  utimesSync(path, fileClock, fileClock);
}

function record(overrides: Partial<InboundRecord> = {}): InboundRecord {
  return {
    id: 'req_01TEST',
    sourceId: 'src_01TEST',
    method: 'POST',
    path: '',
    query: '',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{"n":41}'),
    receivedAt: 1_700_000_000_000,
    status: 'accepted',
    responseStatus: 202,
    verified: true,
    reason: null,
    dedupKey: null,
    duplicateOf: null,
    stale: false,
    processing: { status: 'pending', output: null, error: null, durationMs: null, finishedAt: null },
    ...overrides,
  };
}

const emitted: Array<{ app: string; eventType: string; payload: unknown }> = [];
const emit: EmitFn = async (app, eventType, payload) => {
  emitted.push({ app, eventType, payload });
  return { id: `msg_${emitted.length}` };
};
const unusedDb: DocumentDb = {
  collection: () => {
    throw new Error('no db in this test');
  },
};

function context(overrides: Partial<InboundRecord> = {}, db: DocumentDb = unusedDb): HandlerContext {
  return buildContext({ record: record(overrides), db, emit, log: pino({ level: 'silent' }) });
}

async function loaded(loader: HandlerLoader, name: string): Promise<HandlerModule> {
  const module = await loader.load(name);
  if (module === null) throw new Error(`handler ${name} not found`);
  return module;
}

const run = (module: HandlerModule, ctx = context(), opts: { event?: string; timeoutMs?: number } = {}) =>
  runHandler(module, ctx, { event: opts.event, timeoutMs: opts.timeoutMs ?? 5000 });

describe('parseBody', () => {
  const body = (contentType: string | undefined, raw: string | Buffer) =>
    parseBody(contentType, typeof raw === 'string' ? Buffer.from(raw) : raw);
  const invalidUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);

  it('parses JSON, including +json types and charset parameters', () => {
    expect(body('application/json', '{"a":[1,{"b":null}]}')).toEqual({ a: [1, { b: null }] });
    expect(body('Application/JSON; charset=utf-8', '[1,2]')).toEqual([1, 2]);
    expect(body('application/vnd.api+json', '"s"')).toBe('s');
    expect(body('application/json', '\uFEFF{"bom":true}')).toEqual({ bom: true });
  });

  it('gives the text of invalid JSON', () => {
    expect(body('application/json', '{"a":')).toBe('{"a":');
  });

  it('parses forms, repeated keys as arrays', () => {
    expect(body('application/x-www-form-urlencoded', 'a=1&b=x+y%21&a=2&a=3&c=')).toEqual({ a: ['1', '2', '3'], b: 'x y!', c: '' });
  });

  it('gives text, XML and untyped UTF-8 bodies as strings', () => {
    expect(body('text/plain; charset=utf-8', 'héllo')).toBe('héllo');
    expect(body('application/xml', '<a/>')).toBe('<a/>');
    expect(body('application/soap+xml', '<s/>')).toBe('<s/>');
    expect(body(undefined, 'plain')).toBe('plain');
    expect(body('', 'plain')).toBe('plain');
  });

  it('gives undefined for binary, invalid UTF-8 and empty bodies', () => {
    expect(body('application/octet-stream', 'looks like text')).toBeUndefined();
    expect(body('image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47]))).toBeUndefined();
    expect(body(undefined, invalidUtf8)).toBeUndefined();
    expect(body('text/plain', invalidUtf8)).toBeUndefined();
    expect(body('application/json', invalidUtf8)).toBeUndefined();
    expect(body('application/json', '')).toBeUndefined();
  });

  it('checks UTF-8 and parses query strings', () => {
    expect(isUtf8Text(Buffer.from('ünïcode'))).toBe(true);
    expect(isUtf8Text(invalidUtf8)).toBe(false);
    expect(parseQuery('?x=1&x=2&y=%20z')).toEqual({ x: ['1', '2'], y: ' z' });
    expect(parseQuery('')).toEqual({});
    const hostile = parseQuery('__proto__=a&__proto__=b');
    expect(Object.getPrototypeOf(hostile)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(hostile, '__proto__')?.value).toEqual(['a', 'b']);
  });
});

describe('buildContext', () => {
  it('exposes the stored request parsed, with a logger bound to its id', () => {
    const ctx = context({
      method: 'PUT',
      path: 'orders/7',
      query: 'tag=a&tag=b&page=2',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-custom': 'v' },
      body: Buffer.from('status=paid'),
    });
    expect(ctx.request).toEqual({
      method: 'PUT',
      path: 'orders/7',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-custom': 'v' },
      query: { tag: ['a', 'b'], page: '2' },
      params: { path: 'orders/7' },
      body: { status: 'paid' },
      rawBody: Buffer.from('status=paid'),
    });
    expect(ctx.fetch).toBe(globalThis.fetch);
    expect(ctx.emit).toBe(emit);
    expect(ctx.log.bindings()).toMatchObject({ requestId: 'req_01TEST' });
  });
});

describe('HandlerLoader', () => {
  const loader = new HandlerLoader(handlersDir);

  it('loads a TypeScript handler with type annotations, no build step', async () => {
    writeHandler(
      'typed.ts',
      `interface Ctx { request: { body: { n: number } }; emit(app: string, type: string, payload: unknown): Promise<{ id: string }> }
       enum Kind { Plus = 1 }
       const add = <T extends number>(value: T): number => value + Kind.Plus;
       export default async function handle(ctx: Ctx): Promise<{ next: number; message: string }> {
         const sent = await ctx.emit('app_1', 'number.incremented', { n: ctx.request.body.n satisfies number });
         return { next: add(ctx.request.body.n), message: sent.id as string };
       }`,
    );
    const module = await loaded(loader, 'typed');
    expect(Object.keys(module.events)).toEqual([]);
    emitted.length = 0;
    const result = await run(module);
    expect(result).toMatchObject({ status: 'succeeded', output: { next: 42, message: 'msg_1' }, error: null });
    expect(emitted).toEqual([{ app: 'app_1', eventType: 'number.incremented', payload: { n: 41 } }]);
  });

  it('loads .mjs and .js handlers (ES modules and CommonJS)', async () => {
    writeHandler('plain.mjs', `export default async (ctx) => ({ from: 'mjs', method: ctx.request.method });`);
    writeHandler('esm.js', `export default (ctx) => 'js ' + ctx.request.body.n; export function helper() { return 1; }`);
    writeHandler('common.js', `module.exports = async () => 'cjs';`);
    expect((await run(await loaded(loader, 'plain'))).output).toEqual({ from: 'mjs', method: 'POST' });
    const esm = await loaded(loader, 'esm');
    expect((await run(esm)).output).toBe('js 41');
    expect(Object.keys(esm.events)).toEqual(['helper']);
    expect((await run(await loaded(loader, 'common'))).output).toBe('cjs');
  });

  it('prefers .ts, then .mjs, then .js', async () => {
    writeHandler('order.js', `export default () => 'js';`);
    expect((await run(await loaded(loader, 'order'))).output).toBe('js');
    writeHandler('order.mjs', `export default () => 'mjs';`);
    expect((await run(await loaded(loader, 'order'))).output).toBe('mjs');
    writeHandler('order.ts', `export default (): string => 'ts';`);
    expect((await run(await loaded(loader, 'order'))).output).toBe('ts');
  });

  it('resolves a name to its file and kind without importing it, Python last', async () => {
    writeHandler('kinds.py', `def handle(ctx):\n    return 1\n`);
    expect(await loader.resolve('kinds')).toEqual({ path: join(handlersDir, 'kinds.py'), version: expect.any(String), kind: 'python' });
    expect(await loader.load('kinds')).toBeNull();
    writeHandler('kinds.js', `throw new Error('must not be imported by resolve');`);
    expect(await loader.resolve('kinds')).toMatchObject({ path: join(handlersDir, 'kinds.js'), kind: 'js' });
    expect(await loader.resolve('../kinds')).toBeNull();
    expect(await loader.resolve('nothing_here')).toBeNull();
  });

  it('returns null for a missing handler and for names that could leave the directory', async () => {
    writeFileSync(join(dir, 'outside.ts'), `export default () => 'escaped';`);
    expect(await loader.load('nothing_here')).toBeNull();
    for (const name of ['../outside', '..', 'a..b', '.hidden', 'sub/typed', 'sub\\typed', '/etc/passwd', '', 'x'.repeat(101), '-dash']) {
      expect(await loader.load(name), name).toBeNull();
    }
    expect(await new HandlerLoader(join(dir, 'no-such-dir')).load('typed')).toBeNull();
  });

  it('reloads a handler when its file changes, and only then', async () => {
    writeHandler('live.ts', `export default (): number => 1;`);
    const first = await loaded(loader, 'live');
    expect((await run(first)).output).toBe(1);
    expect(await loader.load('live')).toBe(first);

    writeHandler('live.ts', `export default (): number => 2;\nexport const extra = (): string => 'new';`);
    const second = await loaded(loader, 'live');
    expect(second).not.toBe(first);
    expect((await run(second)).output).toBe(2);
    expect(Object.keys(second.events)).toEqual(['extra']);
  });

  it('rejects with the file and the cause when a handler cannot load, until it is fixed', async () => {
    writeHandler('broken.ts', `export default async (ctx: ) => 1;`);
    await expect(loader.load('broken')).rejects.toThrow(/failed to load handler .*broken\.ts: .*Unexpected/s);
    writeHandler('throws.mjs', `throw new RangeError('boom at import');\nexport default () => 1;`);
    await expect(loader.load('throws')).rejects.toThrow(/throws\.mjs: RangeError: boom at import/);

    writeHandler('broken.ts', `export default async (): Promise<string> => 'fixed';`);
    expect((await run(await loaded(loader, 'broken'))).output).toBe('fixed');
  });

  it('runs GitHub-style per-event exports, falling back to the default export', async () => {
    writeHandler(
      'github.ts',
      `type Ctx = { request: { headers: Record<string, string> } };
       export const push = async (ctx: Ctx): Promise<string> => 'push to ' + ctx.request.headers['x-repo'];
       export async function issues(): Promise<string> { return 'issues'; }`,
    );
    const module = await loaded(loader, 'github');
    const ctx = context({ headers: { 'x-github-event': 'push', 'x-repo': 'acme/api' } });
    expect(await run(module, ctx, { event: 'push' })).toMatchObject({ status: 'succeeded', output: 'push to acme/api' });
    expect((await run(module, ctx, { event: 'issues' })).output).toBe('issues');
    expect(await run(module, ctx, { event: 'ping' })).toEqual({ status: 'skipped', output: null, error: null, durationMs: 0 });
    expect((await run(module, ctx)).status).toBe('skipped');

    writeHandler('github_all.ts', `export default (): string => 'default';\nexport const push = (): string => 'push';`);
    const withDefault = await loaded(loader, 'github_all');
    expect((await run(withDefault, ctx, { event: 'push' })).output).toBe('push');
    expect((await run(withDefault, ctx, { event: 'release' })).output).toBe('default');
    expect((await run(withDefault, ctx, { event: 'constructor' })).output).toBe('default');
  });
});

describe('runHandler', () => {
  const inline = (fn: (ctx: HandlerContext) => unknown): HandlerModule => ({ default: fn, events: {} });

  it('records a thrown error by name and message, without the stack', async () => {
    const result = await run(inline(async () => {
      throw new TypeError('amount must be a number');
    }));
    expect(result).toMatchObject({ status: 'failed', output: null, error: 'TypeError: amount must be a number' });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect((await run(inline(() => { throw new Error('sync'); }))).error).toBe('Error: sync');
    expect((await run(inline(() => Promise.reject('just a string')))).error).toBe('just a string');
  });

  it('fails a handler that runs past its timeout and ignores its late result', async () => {
    const started = Date.now();
    const result = await run(
      inline(() => new Promise((_resolve, reject) => setTimeout(() => reject(new Error('too late')), 300))),
      context(),
      { timeoutMs: 50 },
    );
    expect(result).toMatchObject({ status: 'failed', output: null, error: 'handler timed out after 50 ms' });
    expect(Date.now() - started).toBeLessThan(250);
    // The late rejection must not surface as an unhandled rejection (vitest would fail the run).
    await new Promise((resolve) => setTimeout(resolve, 350));
  });

  it('keeps outputs JSON-safe', async () => {
    expect(await run(inline(() => undefined))).toMatchObject({ status: 'succeeded', output: null });
    expect((await run(inline(() => ({ at: new Date(0), skip: undefined })))).output).toEqual({ at: '1970-01-01T00:00:00.000Z' });

    const bigint = await run(inline(() => ({ total: 10n })));
    expect(bigint).toMatchObject({ status: 'failed', output: null });
    expect(bigint.error).toMatch(/not JSON-serialisable: TypeError: .*BigInt/);

    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect((await run(inline(() => cyclic))).error).toMatch(/not JSON-serialisable: TypeError: .*circular/i);
    expect((await run(inline(() => () => 1))).error).toBe('handler output is not JSON-serialisable: a function');
  });
});

describe('toHttpResponse', () => {
  it('uses a {status, headers, body} output as the response', () => {
    expect(toHttpResponse({ status: 201, headers: { 'X-Id': 'p_1', 'Retry-After': 5 }, body: { ok: true } })).toEqual({
      status: 201,
      headers: { 'x-id': 'p_1', 'retry-after': '5', 'content-type': 'application/json' },
      body: '{"ok":true}',
    });
    expect(toHttpResponse({ status: 200, headers: { 'Content-Type': 'text/xml' }, body: '<ok/>' })).toEqual({
      status: 200,
      headers: { 'content-type': 'text/xml' },
      body: '<ok/>',
    });
    expect(toHttpResponse({ status: 200, body: 'hi' }).headers).toEqual({ 'content-type': 'text/plain; charset=utf-8' });
    expect(toHttpResponse({ status: 204 })).toEqual({ status: 204, headers: {}, body: '' });
    expect(toHttpResponse({ status: 202, body: null }).body).toBe('null');
  });

  it('sends any other output as JSON with status 200', () => {
    const asJson = (body: string) => ({ status: 200, headers: { 'content-type': 'application/json' }, body });
    expect(toHttpResponse(null)).toEqual(asJson('null'));
    expect(toHttpResponse(undefined)).toEqual(asJson('null'));
    expect(toHttpResponse('text')).toEqual(asJson('"text"'));
    expect(toHttpResponse([1])).toEqual(asJson('[1]'));
    expect(toHttpResponse({ status: 'paid' })).toEqual(asJson('{"status":"paid"}'));
    expect(toHttpResponse({ status: 700 })).toEqual(asJson('{"status":700}'));
    expect(toHttpResponse({ status: 200, id: 'x' })).toEqual(asJson('{"status":200,"id":"x"}'));
  });
});

describe('db', () => {
  let store: Store;
  let db: DocumentDb;
  let clock = 1_700_000_000_000;

  beforeAll(async () => {
    store = await openStore({
      databaseUrl: 'sqlite:' + join(dir, 'h.db'),
      box: SecretBox.fromKey(Buffer.alloc(32, 1).toString('base64')),
    });
    db = createDocumentDb(store, () => (clock += 1000));
  });
  afterAll(() => store?.close());

  it('lets a handler insert, find (by dotted field), update and delete documents', async () => {
    writeHandler(
      'sync_payments.ts',
      `type Payment = { id: string; customer: { id: string }; amount: number; status: string };
       type Db = { collection(name: string): {
         insert<T extends object>(doc: T): Promise<T & { _id: string }>;
         find(filter?: object): Promise<Array<Payment & { _id: string }>>;
         findOne(filter: object): Promise<(Payment & { _id: string }) | null>;
         update(filter: object, patch: object): Promise<number>;
         delete(filter: object): Promise<number>;
       } };
       export default async (ctx: { db: Db; request: { body: Payment } }) => {
         const payments = ctx.db.collection('payments');
         const payment = ctx.request.body;
         if (payment.status === 'refunded') {
           return { deleted: await payments.delete({ _id: payment.id }) };
         }
         if (await payments.findOne({ _id: payment.id })) {
           return { updated: await payments.update({ _id: payment.id }, { status: payment.status }) };
         }
         return payments.insert({ _id: payment.id, customer: payment.customer, amount: payment.amount, status: payment.status });
       };`,
    );
    const handler = await loaded(new HandlerLoader(handlersDir), 'sync_payments');
    const deliver = (payment: object) => run(handler, context({ body: Buffer.from(JSON.stringify(payment)) }, db));

    const inserted = await deliver({ id: 'pay_1', customer: { id: 'cus_1' }, amount: 100, status: 'pending' });
    expect(inserted).toMatchObject({ status: 'succeeded', error: null });
    expect(inserted.output).toEqual({ _id: 'pay_1', customer: { id: 'cus_1' }, amount: 100, status: 'pending' });
    await deliver({ id: 'pay_2', customer: { id: 'cus_2' }, amount: 50, status: 'pending' });
    await deliver({ id: 'pay_3', customer: { id: 'cus_1' }, amount: 7, status: 'pending' });

    const payments = db.collection('payments');
    expect((await payments.find({ 'customer.id': 'cus_1' })).map((doc) => doc._id)).toEqual(['pay_1', 'pay_3']);

    expect((await deliver({ id: 'pay_1', status: 'paid' })).output).toEqual({ updated: 1 });
    expect(await payments.findOne({ _id: 'pay_1' })).toEqual({ _id: 'pay_1', customer: { id: 'cus_1' }, amount: 100, status: 'paid' });
    expect(await payments.find({ status: 'paid' })).toHaveLength(1);

    expect((await deliver({ id: 'pay_2', status: 'refunded' })).output).toEqual({ deleted: 1 });
    expect(await payments.findOne({ _id: 'pay_2' })).toBeNull();
    expect((await payments.find()).map((doc) => doc._id)).toEqual(['pay_1', 'pay_3']);
  });

  it('generates sortable ids, refuses duplicates and caps limits', async () => {
    const events = db.collection('events.v1');
    const first = await events.insert({ n: 1 });
    const second = await events.insert({ n: 2, at: new Date(0) });
    expect(first._id).toMatch(/^doc_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(second._id > first._id).toBe(true);
    expect(second).toEqual({ _id: second._id, n: 2, at: '1970-01-01T00:00:00.000Z' });
    await expect(events.insert({ _id: first._id, n: 3 })).rejects.toMatchObject({ code: 'conflict' });

    expect(await events.find({}, { limit: 1 })).toEqual([{ _id: first._id, n: 1 }]);
    expect(await events.find({}, { limit: 1_000_000 })).toHaveLength(2);
    await expect(events.find({}, { limit: 0 })).rejects.toThrow(/limit must be a positive integer/);

    // The id is the key: a patch cannot change it, and it is never stored as a field.
    expect(await events.update({ _id: first._id }, { _id: 'other', n: 10 })).toBe(1);
    expect(await events.findOne({ n: 10 })).toEqual({ _id: first._id, n: 10 });
    expect(await events.delete({ n: 99 })).toBe(0);
  });

  it('refuses invalid collection names, documents and filters with a clear error', async () => {
    for (const name of ['', 'has space', 'a/b', 'x'.repeat(101)]) {
      expect(() => db.collection(name), name).toThrow(/invalid collection name/);
    }
    const things = db.collection('things');
    await expect(things.insert([1, 2] as never)).rejects.toThrow('a document must be a plain JSON object, got an array');
    await expect(things.insert('text' as never)).rejects.toThrow('a document must be a plain JSON object, got a string');
    await expect(things.insert(new Map() as never)).rejects.toThrow('got a Map object');
    await expect(things.insert({ n: 1n })).rejects.toThrow(/a document is not JSON-serialisable/);
    await expect(things.insert({ _id: 42 })).rejects.toThrow("a document's _id must be a non-empty string, got a number");
    await expect(things.delete({ _id: undefined })).rejects.toThrow('filter field "_id" is undefined');
  });
});
