import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type ChildServer } from './helpers/child.js';

const TOKEN = 'inbound-crash-admin-token-0';
const REQUESTS = 5000;
const KILL_AFTER = 2000;
const PAD = 'p'.repeat(400);

interface StoredRequest {
  id: string;
  status: string;
  headers: Record<string, string>;
  processing: { status: string };
}

/**
 * kill -9 while webhooks pour in: every request that got a 2xx is in the log after the restart, each delivery id is
 * stored once (senders retry what the kill cut off, and dedup answers the copies), and all processing completes.
 */
describe('inbound crash recovery (kill -9)', () => {
  let dir: string;
  let server: ChildServer | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookyard-inbound-crash-'));
    mkdirSync(join(dir, 'handlers'));
    writeFileSync(join(dir, 'handlers', 'crash.mjs'), `export default async (ctx) => {
      await ctx.db.collection('seen').insert({ i: ctx.request.body.i });
      return { i: ctx.request.body.i };
    };`);
  });
  afterAll(() => {
    server?.process.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({
    HOOKYARD_DATABASE_URL: join(dir, 'hookyard.db'),
    HOOKYARD_ADMIN_TOKEN: TOKEN,
    // Short, so that the jobs the killed process held are retaken within the test.
    HOOKYARD_HANDLER_TIMEOUT_MS: '1000',
  });
  const api = (url: string, method: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('keeps every acknowledged request and finishes its processing after a kill -9 and restart', async () => {
    server = await spawnServer(env(), dir);
    expect((await api(server.url, 'POST', '/api/v1/sources', { name: 'crash', dedup: { header: 'x-delivery-id' } })).status).toBe(201);

    // Delivery i → the id Hookyard acknowledged for it (a 202, or a 200 naming the first copy after a retry).
    const acked = new Map<number, string>();
    let target: string | null = server.url;
    let cutOff = 0;
    let next = 0;
    const sender = async () => {
      while (next < REQUESTS) {
        const i = next++;
        for (;;) {
          const url = target;
          if (url === null) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            continue;
          }
          try {
            const res = await fetch(`${url}/in/crash`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-delivery-id': `delivery-${i}` },
              body: JSON.stringify({ i, pad: PAD }),
            });
            const body = (await res.json()) as { id: string };
            if (res.status === 202 || res.status === 200) {
              acked.set(i, body.id);
              break;
            }
            throw new Error(`unexpected ${res.status}`);
          } catch {
            // The server died under this request: like a real sender, retry until acknowledged.
            cutOff++;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      }
    };
    const senders = Promise.all(Array.from({ length: 32 }, sender));

    while (acked.size < KILL_AFTER) await new Promise((resolve) => setTimeout(resolve, 5));
    target = null;
    server.process.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');
    const ackedBeforeKill = acked.size;
    server = await spawnServer(env(), dir);
    target = server.url;
    await senders;
    expect(acked.size).toBe(REQUESTS);

    // Every acknowledged id is in the log, once per delivery id, and its processing completes.
    const deadline = Date.now() + 60_000;
    let stored: StoredRequest[] = [];
    for (;;) {
      stored = [];
      let cursor = '';
      do {
        const page = (await (await api(server.url, 'GET', `/api/v1/sources/crash/requests?limit=250${cursor ? `&cursor=${cursor}` : ''}`)).json()) as {
          data: StoredRequest[];
          nextCursor: string | null;
        };
        stored.push(...page.data);
        cursor = page.nextCursor ?? '';
      } while (cursor !== '');
      const unfinished = stored.filter((r) => r.status === 'accepted' && r.processing.status !== 'succeeded');
      if (unfinished.length === 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const accepted = stored.filter((r) => r.status === 'accepted');
    const byId = new Map(accepted.map((r) => [r.id, r]));
    const missing = [...acked.values()].filter((id) => !byId.has(id));
    expect(missing).toEqual([]);
    expect(new Set(accepted.map((r) => r.headers['x-delivery-id'])).size).toBe(accepted.length);
    expect(accepted.length).toBe(REQUESTS);
    expect(accepted.filter((r) => r.processing.status !== 'succeeded')).toEqual([]);
    const duplicates = stored.filter((r) => r.status === 'duplicate').length;
    console.log(`inbound crash test: ${ackedBeforeKill} acknowledged before kill -9, ${cutOff} requests cut off and retried, ${duplicates} answered as duplicates, ${accepted.length} stored once each, all processed`);

    server.process.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    server = undefined;
  }, 150_000);
});
