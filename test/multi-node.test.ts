import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnServer, type ChildServer } from './helpers/child.js';
import { createSchema, describePg } from './helpers/postgres.js';
import { Receiver } from './helpers/receiver.js';

const TOKEN = 'multi-node-admin-token-0000';
const MESSAGES = 5000;
const ENDPOINTS = ['/a', '/b', '/c'];

/** Several stateless nodes on one PostgreSQL database, as in a scaled-out deployment. */
describePg('multi-node on PostgreSQL', () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let dir: string;
  let receiver: Receiver;
  const nodes: ChildServer[] = [];

  beforeAll(async () => {
    schema = await createSchema('hy_multi');
    dir = mkdtempSync(join(tmpdir(), 'hookyard-multi-'));
    receiver = await Receiver.start();
    for (const path of ENDPOINTS) receiver.on(path, (_req, res) => setTimeout(() => res.writeHead(200).end(), 2));
  });
  afterAll(async () => {
    for (const node of nodes) node.process.kill('SIGKILL');
    await receiver.close();
    await schema.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (role: 'api' | 'worker' | 'all') => {
    const node = await spawnServer({
      HOOKYARD_DATABASE_URL: schema.url,
      HOOKYARD_SECRET_KEY: 'ab'.repeat(32),
      HOOKYARD_ADMIN_TOKEN: TOKEN,
      HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: 'true',
      HOOKYARD_DELIVERY_TIMEOUT_MS: '2000',
      HOOKYARD_RETRY_SCHEDULE: '200ms,500ms,1s,2s',
      HOOKYARD_WORKER_CONCURRENCY: '32',
    }, dir, ['serve', '--role', role]);
    nodes.push(node);
    return node;
  };
  const call = async (url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'x-delivery-id': String((body as { key?: string })?.key ?? '') },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
  };

  it('two workers and one API node deliver every message to every endpoint, also when a worker is killed -9', async () => {
    const api = await start('api');
    const [w1, w2] = await Promise.all([start('worker'), start('worker')]);
    const app = (await call(api.url, 'POST', '/api/v1/apps', { name: 'multi' })).body;
    for (const path of ENDPOINTS) expect((await call(api.url, 'POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}${path}` })).status).toBe(201);

    const accepted: string[] = [];
    let next = 0;
    let killedAt = -1;
    const sender = async () => {
      while (next < MESSAGES) {
        const i = next++;
        const res = await call(api.url, 'POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'multi.test', payload: { i } });
        expect(res.status).toBe(202);
        accepted.push(res.body.id);
        // Midway through, one worker dies without a chance to release its claims.
        if (i === MESSAGES / 2) {
          killedAt = receiver.received.length;
          w1!.process.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, sender));
    expect(await w1!.exited).toBe('SIGKILL');

    const deadline = Date.now() + 90_000;
    const missing = () => ENDPOINTS.flatMap((path) => {
      const seen = new Set(receiver.at(path).map((r) => String(r.headers['webhook-id'])));
      return accepted.filter((id) => !seen.has(id)).map((id) => `${path} ${id}`);
    });
    while (missing().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(missing()).toEqual([]);

    const total = receiver.received.length;
    const duplicates = total - MESSAGES * ENDPOINTS.length;
    console.log(`multi-node: ${MESSAGES} messages x ${ENDPOINTS.length} endpoints, worker killed after ${killedAt} deliveries, ${total} deliveries in all, ${duplicates} duplicates`);
    expect(duplicates).toBeGreaterThanOrEqual(0);
    // The surviving worker finished the dead one's claims: nothing stays pending or leased.
    let metrics = '';
    while (Date.now() < deadline) {
      metrics = await (await fetch(`${w2!.url}/metrics`)).text();
      if (/hookyard_queue_depth\{status="pending"\} 0\b/.test(metrics) && /hookyard_queue_depth\{status="sending"\} 0\b/.test(metrics)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(metrics).toMatch(/hookyard_queue_depth\{status="sending"\} 0\b/);
  }, 180_000);

  it("sees a change made on one node before the other node's next message: endpoints disabled and enabled, keys revoked", async () => {
    const [a, b] = await Promise.all([start('all'), start('all')]);
    const app = (await call(a!.url, 'POST', '/api/v1/apps', { name: 'caching' })).body;
    const toggled = (await call(a!.url, 'POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}/toggled` })).body;
    const steady = (await call(a!.url, 'POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}/steady` })).body;
    const send = async (node: ChildServer, i: number) => {
      const res = await call(node.url, 'POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'cache.test', payload: { i } });
      expect(res.status).toBe(202);
      return res.body.id as string;
    };
    const deliveredTo = async (node: ChildServer, messageId: string) =>
      ((await call(node.url, 'GET', `/api/v1/apps/${app.id}/messages/${messageId}/deliveries`)).body.data as Array<{ endpointId: string }>)
        .map((delivery) => delivery.endpointId).sort();

    // b has the app, its endpoints and the key cached from a first message.
    expect(await deliveredTo(b!, await send(b!, 0))).toEqual([steady.id, toggled.id].sort());
    const whileDisabled: string[] = [];
    const whileEnabled: string[] = [];
    for (let round = 1; round <= 10; round++) {
      // Each change on a, then at once a message on b: b must not fan out on what it cached before.
      expect((await call(a!.url, 'PATCH', `/api/v1/apps/${app.id}/endpoints/${toggled.id}`, { disabled: true })).status).toBe(200);
      const off = await send(b!, round);
      whileDisabled.push(off);
      expect(await deliveredTo(b!, off)).toEqual([steady.id]);
      expect((await call(a!.url, 'PATCH', `/api/v1/apps/${app.id}/endpoints/${toggled.id}`, { disabled: false })).status).toBe(200);
      const on = await send(b!, round + 100);
      whileEnabled.push(on);
      expect(await deliveredTo(b!, on)).toEqual([steady.id, toggled.id].sort());
    }
    await receiver.waitFor(1 + whileEnabled.length, '/toggled', 30_000);
    await receiver.waitFor(1 + whileEnabled.length + whileDisabled.length, '/steady', 30_000);
    const toggledIds = new Set(receiver.at('/toggled').map((r) => String(r.headers['webhook-id'])));
    expect(whileDisabled.filter((id) => toggledIds.has(id))).toEqual([]);
    expect(whileEnabled.filter((id) => !toggledIds.has(id))).toEqual([]);

    // An app key revoked on a stops working on b at once, although b has just used it.
    const key = (await call(a!.url, 'POST', `/api/v1/apps/${app.id}/keys`, { name: 'revoked soon' })).body;
    const withKey = (node: ChildServer) => fetch(`${node.url}/api/v1/apps/${app.id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ eventType: 'cache.test', payload: {} }),
    });
    expect((await withKey(b!)).status).toBe(202);
    const revoked = await fetch(`${a!.url}/api/v1/apps/${app.id}/keys/${key.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(revoked.status).toBe(204);
    expect((await withKey(b!)).status).toBe(401);
  }, 90_000);

  it('two API nodes receiving the same inbound delivery at the same moment store it once', async () => {
    const [a, b] = await Promise.all([start('api'), start('api')]);
    expect((await call(a!.url, 'POST', '/api/v1/sources', { name: 'twice', dedup: { header: 'x-delivery-id' } })).status).toBe(201);
    const KEYS = 50;
    const results = await Promise.all(Array.from({ length: KEYS }, async (_, k) => {
      const send = (node: ChildServer) => fetch(`${node.url}/in/twice`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-delivery-id': `k${k}` }, body: '{}' });
      const [ra, rb] = await Promise.all([send(a!), send(b!)]);
      return [ra.status, rb.status].sort();
    }));
    // One copy accepted (202), the other answered as its duplicate (200), for every key.
    expect(results.every(([first, second]) => first === 200 && second === 202)).toBe(true);
    const accepted = (await call(a!.url, 'GET', '/api/v1/sources/twice/requests?status=accepted&limit=250')).body.data as Array<{ headers: Record<string, string> }>;
    expect(accepted).toHaveLength(KEYS);
    expect(new Set(accepted.map((r) => r.headers['x-delivery-id'])).size).toBe(KEYS);
  }, 60_000);
});
