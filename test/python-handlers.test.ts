import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonPool } from '../src/inbound/handlers/python-pool.js';
import { startTestHookyard, type TestHookyard } from './helpers/hookyard.js';
import { waitFor } from './helpers/wait.js';

// Python handlers through a real server: the pool of python3 processes, the pipe protocol, the pymongo-shaped client
// over the same document db that TS handlers see.

/** The server's log lines, as parsed JSON. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const HANDLERS: Record<string, string> = {
  // The seed's example, as a Data Backbone function that runs unchanged.
  'example_webhook.py': `
def example_webhook(mongo_client, request_body, request_url_params):
    payments = mongo_client["payments"]
    payments.insert_one({'payment_id': request_body['payment_id']})
    return {"body": request_body, "params": request_url_params}
`,
  'read_payments.ts': `
export default async (ctx: any) => (await ctx.db.collection('payments').find()).map((d: any) => d.payment_id);
`,
  // Every mongo_client method, through mongo_client.db as well as by item.
  'mongo_tour.py': `
def mongo_tour(mongo_client, request_body, request_url_params):
    c = mongo_client.db["orders"]
    out = {}
    doc = {"order": 1, "total": 10, "tags": ["a"]}
    out["insert_one"] = isinstance(c.insert_one(doc).inserted_id, str) and "_id" in doc
    out["insert_many"] = len(c.insert_many([{"order": 2, "total": 20}, {"order": 3, "total": 30, "note": "x"}]).inserted_ids)
    out["find_one"] = c.find_one({"order": 2})["total"]
    out["find_gt_sorted"] = [d["order"] for d in c.find({"total": {"$gt": 10}}).sort("order", -1)]
    out["find_in_limit"] = [d["order"] for d in c.find({"order": {"$in": [1, 3]}}, sort=[("order", 1)], limit=1)]
    out["find_ne_nin"] = sorted(d["order"] for d in c.find({"order": {"$ne": 1, "$nin": [3]}}))
    out["find_range"] = sorted(d["order"] for d in c.find({"total": {"$gte": 20, "$lte": 30}}))
    out["find_lt_eq"] = [d["order"] for d in c.find({"total": {"$lt": 20}, "order": {"$eq": 1}})]
    out["exists"] = [d["order"] for d in c.find({"note": {"$exists": True}})]
    u = c.update_one({"order": 1}, {"$set": {"status": "paid"}, "$inc": {"total": 5}, "$push": {"tags": "b"}})
    out["update_one"] = [u.matched_count, u.modified_count, u.upserted_id]
    out["update_many"] = c.update_many({"total": {"$gte": 20}}, {"$unset": {"note": ""}}).matched_count
    up = c.update_one({"order": 4}, {"$set": {"total": 40}}, upsert=True)
    out["upsert"] = [up.matched_count, isinstance(up.upserted_id, str)]
    out["count"] = c.count_documents({})
    try:
        c.insert_one({"_id": doc["_id"]})
    except Exception as error:
        out["duplicate"] = type(error).__name__
    out["delete_one"] = c.delete_one({"order": 4}).deleted_count
    out["delete_many"] = c.delete_many({"order": {"$in": [2, 3]}}).deleted_count
    try:
        c.find_one({"total": {"$regex": "1"}})
        out["unsupported"] = None
    except Exception as error:
        out["unsupported"] = [type(error).__name__, "$regex" in str(error)]
    return out
`,
  'read_orders.ts': `
export default async (ctx: any) => (await ctx.db.collection('orders').find()).map(({ _id, ...rest }: any) => rest);
`,
  'context_form.py': `
def handler(ctx):
    r = ctx.request
    print("hello from python")
    ctx.log.warning("careful", amount=r.body["amount"])
    message = ctx.emit("shop", "order.paid", {"amount": r.body["amount"]})
    return {
        "method": r.method, "path": r.path, "query": r.query, "params": r.params, "body": r.body,
        "raw_body": r.raw_body.decode(), "header": r.headers["x-custom"], "message": message["id"].startswith("msg_"),
    }
`,
  'gh.py': `
def push(ctx):
    return {"event": "push", "ref": ctx.request.body["ref"]}

def handler(ctx):
    return {"event": "other"}
`,
  'failing.py': `
import json

def handler(ctx):
    amount = ctx.request.body["amount"]
    if amount < 0:
        raise ValueError("negative amount %d" % amount)
    return {"ok": True}
`,
  'looping.py': `
def handler(ctx):
    while True:
        pass
`,
  'sync_py.py': `
def handler(ctx):
    return {"status": 201, "headers": {"x-from": "python"}, "body": {"charged": ctx.request.body["amount"]}}
`,
  'not_json.py': `
def handler(ctx):
    return {"when": object()}
`,
  'no_function.py': `
VALUE = 1
`,
};

describe('Python handlers', () => {
  let hy: TestHookyard;
  const { logger, lines } = capturingLogger();

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${hy.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const send = async (path: string, body: unknown, headers: Record<string, string> = {}): Promise<string> => {
    const res = await post(path, body, headers);
    expect(res.status).toBeLessThan(300);
    return ((await res.json()) as { id: string }).id;
  };
  const processed = (source: string, id: string) =>
    waitFor(
      () => hy.api('GET', `/api/v1/sources/${source}/requests/${id}`).then((r) => r.body),
      (r) => r.processing?.status === 'succeeded' || r.processing?.status === 'failed',
    );
  const run = async (source: string, body: unknown, query = '') => processed(source, await send(`/webhooks/${source}${query}`, body));

  beforeAll(async () => {
    // 5 s: on a loaded CI machine the first test's TS read once came back failed with no output; 1.5 s left a
    // handler's first run (its module loaded, its worker started) little room.
    hy = await startTestHookyard({ HOOKYARD_HANDLER_TIMEOUT_MS: '5000', HOOKYARD_PYTHON_WORKERS: '2' }, { logger });
    mkdirSync(join(hy.dir, 'handlers'), { recursive: true });
    for (const [file, text] of Object.entries(HANDLERS)) writeFileSync(join(hy.dir, 'handlers', file), text);
    for (const name of ['example_webhook', 'read_payments', 'mongo_tour', 'read_orders', 'context_form', 'failing', 'looping', 'not_json', 'no_function']) {
      expect((await hy.api('POST', '/api/v1/sources', { name })).status).toBe(201);
    }
    expect((await hy.api('POST', '/api/v1/sources', { name: 'gh', verification: { type: 'github', secret: 'gh-secret' } })).status).toBe(201);
    expect((await hy.api('POST', '/api/v1/sources', { name: 'sync_py', response: { mode: 'sync' } })).status).toBe(201);
    expect((await hy.api('POST', '/api/v1/apps', { name: 'Shop', uid: 'shop' })).status).toBe(201);
  }, 30_000);
  afterAll(async () => hy?.stop());

  it('runs the Data Backbone form as it is: the body and params back, the document in the db TS handlers see', async () => {
    const record = await run('example_webhook', { payment_id: 'pay_1', amount: 5 }, '?store=eu&tag=a&tag=b');
    expect(record.processing).toMatchObject({ status: 'succeeded', error: null });
    expect(record.processing.output).toEqual({ body: { payment_id: 'pay_1', amount: 5 }, params: { store: 'eu', tag: ['a', 'b'] } });
    const read = await run('read_payments', {});
    expect(read.processing).toMatchObject({ status: 'succeeded', error: null });
    expect(read.processing.output).toEqual(['pay_1']);
  });

  it('gives mongo_client every pymongo method, shaped as pymongo, over the same data ctx.db reads', async () => {
    const record = await run('mongo_tour', {});
    expect(record.processing.error).toBeNull();
    expect(record.processing.output).toEqual({
      insert_one: true,
      insert_many: 2,
      find_one: 20,
      find_gt_sorted: [3, 2],
      find_in_limit: [1],
      find_ne_nin: [2],
      find_range: [2, 3],
      find_lt_eq: [1],
      exists: [3],
      update_one: [1, 1, null],
      update_many: 2,
      upsert: [0, true],
      count: 4,
      duplicate: 'DuplicateKeyError',
      delete_one: 1,
      delete_many: 2,
      unsupported: ['OperationFailure', true],
    });
    const read = await run('read_orders', {});
    expect(read.processing.output).toEqual([{ order: 1, total: 15, tags: ['a', 'b'], status: 'paid' }]);
  });

  it('gives handler(ctx) the request, emit and a log where print lands with the request id', async () => {
    const id = await send('/in/context_form/sub/path?x=1', { amount: 7 }, { 'x-custom': 'yes' });
    const record = await processed('context_form', id);
    expect(record.processing.output).toEqual({
      method: 'POST',
      path: 'sub/path',
      query: { x: '1' },
      params: { path: 'sub/path' },
      body: { amount: 7 },
      raw_body: '{"amount":7}',
      header: 'yes',
      message: true,
    });
    const messages = await hy.api('GET', '/api/v1/apps/shop/messages');
    expect(messages.body.data.map((m: { eventType: string; payload: unknown }) => [m.eventType, m.payload])).toContainEqual(['order.paid', { amount: 7 }]);
    expect(lines).toContainEqual(expect.objectContaining({ requestId: id, msg: 'hello from python', level: 30 }));
    expect(lines).toContainEqual(expect.objectContaining({ requestId: id, msg: 'careful', amount: 7, level: 40 }));
  });

  it('picks a per-event function by X-GitHub-Event, else handler(ctx)', async () => {
    const gh = async (event: string, payload: object) => {
      const body = JSON.stringify(payload);
      const signature = `sha256=${createHmac('sha256', 'gh-secret').update(body).digest('hex')}`;
      const res = await fetch(`${hy.url}/in/gh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': `d-${event}`, 'x-hub-signature-256': signature },
        body,
      });
      expect(res.status).toBe(202);
      return processed('gh', ((await res.json()) as { id: string }).id);
    };
    expect((await gh('push', { ref: 'refs/heads/main' })).processing.output).toEqual({ event: 'push', ref: 'refs/heads/main' });
    expect((await gh('issues', { action: 'opened' })).processing.output).toEqual({ event: 'other' });
  });

  it("records an exception with its type, message and the handler file's line", async () => {
    const record = await run('failing', { amount: -3 });
    expect(record.processing).toMatchObject({ status: 'failed', error: 'ValueError: negative amount -3 (failing.py line 7)' });
    expect((await run('failing', { amount: 3 })).processing).toMatchObject({ status: 'succeeded', output: { ok: true } });
  });

  it('kills a handler past its timeout, replaces the process, and serves the next request', async () => {
    const looping = await run('looping', {});
    expect(looping.processing).toMatchObject({ status: 'failed', error: 'handler timed out after 5000 ms' });
    const next = await Promise.all([run('failing', { amount: 1 }), run('example_webhook', { payment_id: 'pay_2' })]);
    expect(next.map((r) => r.processing.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('answers a sync-mode source with the Python handler result', async () => {
    const res = await post('/webhooks/sync_py', { amount: 42 });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-from')).toBe('python');
    expect(await res.json()).toEqual({ charged: 42 });
  });

  it('reports output that is not JSON and a file without a handler function clearly', async () => {
    expect((await run('not_json', {})).processing.error).toMatch(/^handler output is not JSON-serialisable: .*object/);
    expect((await run('no_function', {})).processing.error).toBe(
      'LookupError: no_function.py defines neither handler(ctx) nor no_function(mongo_client, request_body, request_url_params)',
    );
  });
});

describe('Python handlers without a Python interpreter', () => {
  it('fails each request of a .py source with a clear error, and warns once at start', async () => {
    const { logger, lines } = capturingLogger();
    // The handler exists before the server starts: the start-up check looks for .py files.
    const handlersDir = mkdtempSync(join(tmpdir(), 'hookyard-py-'));
    writeFileSync(join(handlersDir, 'example_webhook.py'), HANDLERS['example_webhook.py'] ?? '');
    const hy = await startTestHookyard({ HOOKYARD_PYTHON: '/nonexistent/python3', HOOKYARD_HANDLERS_DIR: handlersDir }, { logger });
    try {
      expect((await hy.api('POST', '/api/v1/sources', { name: 'example_webhook' })).status).toBe(201);
      const res = await fetch(`${hy.url}/webhooks/example_webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"payment_id":"p"}' });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      const record = await waitFor(
        () => hy.api('GET', `/api/v1/sources/example_webhook/requests/${id}`).then((r) => r.body),
        (r) => r.processing?.status === 'failed',
      );
      expect(record.processing.error).toMatch(/Python interpreter "\/nonexistent\/python3" could not be started .*HOOKYARD_PYTHON/);
      const warnings = lines.filter((line) => line.level === 40 && /python/i.test(String(line.msg)));
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0]?.msg)).toMatch(/example_webhook\.py/);
    } finally {
      await hy.stop();
      rmSync(handlersDir, { recursive: true, force: true });
    }
  });

  it('checks the interpreter', async () => {
    expect(await PythonPool.check('python3')).toBeNull();
    expect(await PythonPool.check('/nonexistent/python3')).toMatch(/could not be started/);
  });
});
