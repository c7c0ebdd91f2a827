import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type ChildServer } from './helpers/child.js';
import { startTestHookyard, type TestHookyard } from './helpers/hookyard.js';
import { createSchema, describePg } from './helpers/postgres.js';
import { Receiver } from './helpers/receiver.js';
import { waitFor } from './helpers/wait.js';

/**
 * A receiver path that records, per message (payload `{i}`), every attempt and the order of successes, and how many
 * requests were ever open at once. `failures[i]` attempts of message i answer 500 first (Infinity: always).
 */
function fifoPath(receiver: Receiver, path: string, failures: Record<number, number> = {}) {
  const log = { attempts: [] as number[], successes: [] as number[], open: 0, maxOpen: 0 };
  receiver.on(path, (request, res) => {
    const { i } = JSON.parse(request.body) as { i: number };
    log.attempts.push(i);
    log.open++;
    log.maxOpen = Math.max(log.maxOpen, log.open);
    // Held open a little, so that a second delivery sent beside this one would overlap it.
    setTimeout(() => {
      log.open--;
      const left = failures[i] ?? 0;
      if (left > 0) {
        failures[i] = left - 1;
        res.writeHead(500).end('not yet');
        return;
      }
      log.successes.push(i);
      res.writeHead(200).end('ok');
    }, 5);
  });
  return log;
}

describe('FIFO endpoints (SQLite)', () => {
  let hy: TestHookyard;
  let receiver: Receiver;
  let appId: string;

  beforeAll(async () => {
    receiver = await Receiver.start();
    hy = await startTestHookyard({ HOOKYARD_RETRY_SCHEDULE: '50ms,50ms,50ms', HOOKYARD_WORKER_CONCURRENCY: '32' });
    appId = (await hy.api('POST', '/api/v1/apps', { name: 'fifo' })).body.id;
  });
  afterAll(async () => {
    await hy.stop();
    await receiver.close();
  });

  const endpoint = async (path: string, extra: Record<string, unknown> = {}) => {
    const res = await hy.api('POST', `/api/v1/apps/${appId}/endpoints`, { url: `${receiver.url}${path}`, ...extra });
    expect(res.status).toBe(201);
    return res.body as { id: string; ordering: string };
  };
  const send = async (eventType: string, count: number, from = 0) => {
    const ids: string[] = [];
    // All at once, as a busy producer sends: acceptance order is still one order, the messages' ids.
    const sent = await Promise.all(Array.from({ length: count }, (_, i) => hy.api('POST', `/api/v1/apps/${appId}/messages`, { eventType, payload: { i: from + i } })));
    for (const res of sent) {
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    return ids;
  };

  it('delivers one at a time in message order, a retried message holding the ones behind it', async () => {
    const fifo = fifoPath(receiver, '/fifo', { 3: 2 });
    const parallel = fifoPath(receiver, '/parallel');
    expect((await endpoint('/fifo', { ordering: 'fifo', eventTypes: ['fifo.test'] })).ordering).toBe('fifo');
    expect((await endpoint('/parallel', { eventTypes: ['fifo.test'] })).ordering).toBe('parallel');

    const ids = await send('fifo.test', 30);
    await waitFor(async () => [fifo.successes.length, parallel.successes.length], ([f, p]) => f === 30 && p === 30, 20_000);

    // Message order is id order (one node: ids are issued in acceptance order).
    const order = ids.map((id, i) => [id, i] as const).sort(([a], [b]) => (a < b ? -1 : 1)).map(([, i]) => i);
    expect(fifo.successes).toEqual(order);
    expect(fifo.maxOpen).toBe(1);
    // Message 3 was tried three times, and nothing behind it went before its success.
    const third = order.indexOf(3);
    expect(fifo.attempts.slice(third, third + 3)).toEqual([3, 3, 3]);
    expect(fifo.attempts).toHaveLength(32);
    // The parallel endpoint of the same messages is not held back.
    expect(parallel.maxOpen).toBeGreaterThan(1);
  });

  it('lets the next message go once a failing head is exhausted', async () => {
    const log = fifoPath(receiver, '/fifo-exhaust', { 0: Infinity });
    await endpoint('/fifo-exhaust', { ordering: 'fifo', eventTypes: ['fifo.exhaust'] });
    const [head] = await send('fifo.exhaust', 1);
    const [next] = await send('fifo.exhaust', 1, 1);
    await waitFor(async () => log.attempts, () => log.successes.length === 1, 10_000);
    // One attempt plus three retries of the head, then the next message.
    expect(log.attempts).toEqual([0, 0, 0, 0, 1]);
    expect(log.successes).toEqual([1]);
    const deliveries = async (msg: string) => (await hy.api('GET', `/api/v1/apps/${appId}/messages/${msg}/deliveries`)).body.data;
    expect(await deliveries(head!)).toMatchObject([{ status: 'failed', attempts: 4 }]);
    // The receiver counts the success when it answers; the outcome commits a moment later.
    const done = await waitFor(() => deliveries(next!), (d) => d[0]?.status !== 'sending', 5_000);
    expect(done).toMatchObject([{ status: 'succeeded', attempts: 1 }]);
  });
});

describePg('FIFO endpoints on PostgreSQL, two nodes', () => {
  const TOKEN = 'fifo-pg-admin-token-000000';
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let dir: string;
  let receiver: Receiver;
  const nodes: ChildServer[] = [];

  beforeAll(async () => {
    schema = await createSchema('hy_fifo');
    dir = mkdtempSync(join(tmpdir(), 'hookyard-fifo-'));
    receiver = await Receiver.start();
    for (let n = 0; n < 2; n++) {
      nodes.push(await spawnServer({
        HOOKYARD_DATABASE_URL: schema.url,
        HOOKYARD_SECRET_KEY: 'cd'.repeat(32),
        HOOKYARD_ADMIN_TOKEN: TOKEN,
        HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: 'true',
        HOOKYARD_RETRY_SCHEDULE: '50ms,50ms,50ms',
        // Both nodes look at the queue often, so that each gets heads to claim.
        HOOKYARD_WORKER_CONCURRENCY: '16',
      }, dir));
    }
  });
  afterAll(async () => {
    for (const node of nodes) node.process.kill('SIGKILL');
    await receiver.close();
    await schema.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (url: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('keeps acceptance order and one delivery at a time across nodes, through retries', async () => {
    const log = fifoPath(receiver, '/pg-fifo', { 4: 1, 9: 2, 15: 1 });
    const [a, b] = nodes.map((node) => node.url);
    const app = (await call(a!, 'POST', '/api/v1/apps', { name: 'fifo-pg' })).body;
    expect((await call(a!, 'POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}/pg-fifo`, ordering: 'fifo' })).status).toBe(201);

    // Sent in turn to both nodes, each accepted before the next is sent: that is the order to keep.
    const count = 24;
    for (let i = 0; i < count; i++) {
      const res = await call(i % 2 === 0 ? a! : b!, 'POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'pg.fifo', payload: { i } });
      expect(res.status).toBe(202);
    }
    await waitFor(async () => log.successes, (done) => done.length === count, 30_000);
    expect(log.successes).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(log.maxOpen).toBe(1);
    expect(log.attempts).toHaveLength(count + 4);
  });
});
