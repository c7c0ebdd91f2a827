import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type ChildServer } from './helpers/child.js';
import { Receiver } from './helpers/receiver.js';

const TOKEN = 'crash-test-admin-token-000';
const MESSAGES = 2000;

/** kill -9 in the middle of delivering: every message that got a 202 still arrives, and nothing stays in flight. */
describe('crash recovery (kill -9)', () => {
  let dir: string;
  let receiver: Receiver;
  let server: ChildServer | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookyard-crash-'));
    receiver = await Receiver.start();
    // A little slower than acceptance, so that the kill lands while deliveries are under way.
    receiver.on('/sink', (_req, res) => setTimeout(() => res.writeHead(200).end(), 10));
  });
  afterAll(async () => {
    server?.process.kill('SIGKILL');
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({
    HOOKYARD_DATABASE_URL: join(dir, 'hookyard.db'),
    HOOKYARD_ADMIN_TOKEN: TOKEN,
    HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: 'true',
    HOOKYARD_DELIVERY_TIMEOUT_MS: '2000',
    HOOKYARD_RETRY_SCHEDULE: '200ms,500ms,1s,2s',
    HOOKYARD_ENDPOINT_CONCURRENCY: '4',
  });

  it('delivers every accepted message at least once after a kill -9 and restart', async () => {
    server = await spawnServer(env(), dir);
    const call = (url: string, method: string, path: string, body?: unknown) =>
      fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const app = (await (await call(server.url, 'POST', '/api/v1/apps', { name: 'crash' })).json()) as { id: string };
    await call(server.url, 'POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}/sink` });

    const accepted = new Set<string>();
    let next = 0;
    const first = server;
    const sender = async () => {
      while (next < MESSAGES) {
        const i = next++;
        const res = await call(first.url, 'POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'crash.test', payload: { i } });
        if (res.status === 202) accepted.add(((await res.json()) as { id: string }).id);
      }
    };
    await Promise.all(Array.from({ length: 16 }, sender));
    expect(accepted.size).toBe(MESSAGES);
    await receiver.waitFor(300, '/sink', 60_000);
    first.process.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const receivedBeforeRestart = receiver.at('/sink').length;
    // The kill landed mid-delivery: some messages were delivered, many were not.
    expect(receivedBeforeRestart).toBeLessThan(MESSAGES);

    server = await spawnServer(env(), dir);
    const ids = () => new Set(receiver.at('/sink').map((r) => String(r.headers['webhook-id'])));
    const deadline = Date.now() + 60_000;
    while ([...accepted].some((id) => !ids().has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const missing = [...accepted].filter((id) => !ids().has(id));
    expect(missing).toEqual([]);

    // Nothing pending or leased once the queue has drained.
    let depth = '';
    while (Date.now() < deadline) {
      depth = await (await fetch(`${server.url}/metrics`)).text();
      if (/hookyard_queue_depth\{status="pending"\} 0/.test(depth) && /hookyard_queue_depth\{status="sending"\} 0/.test(depth)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(depth).toMatch(/hookyard_queue_depth\{status="pending"\} 0/);
    expect(depth).toMatch(/hookyard_queue_depth\{status="sending"\} 0/);

    const total = receiver.at('/sink').length;
    const duplicates = total - ids().size;
    console.log(`crash test: ${accepted.size} accepted, ${receivedBeforeRestart} delivered before kill -9, ${total} deliveries in all, ${duplicates} duplicates`);
    server.process.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    server = undefined;
  }, 120_000);
});
