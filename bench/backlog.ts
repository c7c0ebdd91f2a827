/**
 * Queue cost at a large backlog: enqueue (message + delivery commit) and claim+record throughput of the store, on an
 * empty queue and next to 1,000,000 pending deliveries, on SQLite and PostgreSQL. The goal is ≥ 0.8× the empty-queue
 * throughput at the backlog. The store is driven directly (no HTTP), so the figures are the queue's own.
 *
 *   npx tsx bench/backlog.ts [--db sqlite|postgres://…] [--backlog 1000000] [--messages 20000]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SecretBox } from '../src/crypto/secret-box.js';
import { decideOutcome } from '../src/delivery/outcome.js';
import { newId } from '../src/ids.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { printTable, saveResult } from './lib/util.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: 'sqlite' },
    backlog: { type: 'string', default: '1000000' },
    messages: { type: 'string', default: '20000' },
  },
});
const BACKLOG = Number(values.backlog);
const MESSAGES = Number(values.messages);
const BATCH = 100;
const box = SecretBox.fromKey('cd'.repeat(32));
const PAYLOAD = JSON.stringify({ fill: 'x'.repeat(600) });

interface Target {
  label: string;
  store: Store;
  /** Adds `count` pending deliveries due in a day (an unreachable endpoint's retries) with one bulk statement. */
  fillBacklog(appId: string, endpointId: string, count: number): Promise<void>;
  size(): Promise<Record<string, number>>;
  dispose(): Promise<void>;
}

async function sqliteTarget(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-backlog-'));
  const path = join(dir, 'hookyard.db');
  const store = await openStore({ databaseUrl: `sqlite:${path}`, box });
  return {
    label: 'SQLite',
    store,
    async fillBacklog(appId, endpointId, count) {
      // A second connection: the store's is busy with nothing now, and WAL lets both work on the file.
      const db = new Database(path);
      const due = Date.now() + 86_400_000;
      db.exec(`
        WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ${count})
        INSERT INTO messages (id, app_id, event_type, event_id, payload, created_at)
          SELECT printf('msg_backlog%09d', x), '${appId}', 'backlog', NULL, '${PAYLOAD}', ${Date.now()} FROM n;
        INSERT INTO deliveries (message_id, endpoint_id, app_id, status, next_attempt_at, created_at, updated_at)
          SELECT id, '${endpointId}', '${appId}', 'pending', ${due}, created_at, created_at FROM messages WHERE event_type = 'backlog';`);
      db.close();
    },
    async size() {
      const db = new Database(path, { readonly: true });
      const rows = db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as Array<{ name: string; bytes: number }>;
      db.close();
      return Object.fromEntries(rows.map((row) => [row.name, row.bytes]));
    },
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresTarget(url: string): Promise<Target> {
  const schema = `hy_backlog_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const scoped = `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const store = await openStore({ databaseUrl: scoped, box });
  return {
    label: 'PostgreSQL',
    store,
    async fillBacklog(appId, endpointId, count) {
      const due = Date.now() + 86_400_000;
      await admin.query(`SET search_path = ${schema}`);
      await admin.query(
        `INSERT INTO messages (id, app_id, event_type, event_id, payload, created_at)
         SELECT 'msg_backlog' || lpad(g::text, 9, '0'), $1, 'backlog', NULL, $2, $3 FROM generate_series(1, $4::int) g`,
        [appId, PAYLOAD, Date.now(), count],
      );
      await admin.query(
        `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, next_attempt_at, created_at, updated_at)
         SELECT id, $2, $1, 'pending', $3, created_at, created_at FROM messages WHERE event_type = 'backlog'`,
        [appId, endpointId, due],
      );
      await admin.query('ANALYZE');
    },
    async size() {
      const { rows } = await admin.query(
        `SELECT relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind = 'r'`,
        [schema],
      );
      return Object.fromEntries(rows.map((row: { name: string; bytes: string }) => [row.name, Number(row.bytes)]));
    },
    async dispose() {
      await store.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/** Messages/s committed with one delivery each, in batches like the API's group commit. */
async function enqueue(store: Store, appId: string, endpointId: string): Promise<number> {
  const started = performance.now();
  for (let done = 0; done < MESSAGES; done += BATCH) {
    const now = Date.now();
    await store.insertMessages(Array.from({ length: BATCH }, () => ({
      message: { id: newId('msg', now), appId, eventType: 'bench', eventId: null, payload: PAYLOAD, createdAt: now },
      endpointIds: [endpointId],
    })));
  }
  return (MESSAGES * 1000) / (performance.now() - started);
}

/** Deliveries/s claimed and recorded as delivered, in the worker's batch size. */
async function claimAndRecord(store: Store): Promise<number> {
  const started = performance.now();
  let done = 0;
  while (done < MESSAGES) {
    const now = Date.now();
    const claimed = await store.claimDueDeliveries({ now, limit: BATCH, leaseUntil: now + 30_000, owner: 'bench', excludeEndpoints: [] });
    if (claimed.length === 0) break;
    const outcomes = claimed.map((d) => decideOutcome(d, 'http://bench', { kind: 'response', statusCode: 200, headers: {}, body: '', durationMs: 1 }, now, { retrySchedule: [5_000] }));
    await store.recordOutcomes(outcomes, { now, disableAfterMs: 86_400_000, owner: 'bench' });
    done += claimed.length;
  }
  return (done * 1000) / (performance.now() - started);
}

async function measure(target: Target) {
  const { store } = target;
  const now = Date.now();
  const app = await store.createApp({ id: newId('app'), uid: null, name: 'bench', metadata: {}, createdAt: now, updatedAt: now });
  const endpoint = (id: string) => ({
    id, appId: app.id, url: 'http://bench.invalid/', description: '', eventTypes: null, headers: {}, rateLimit: null, timeoutMs: null,
    disabled: false, disabledReason: null, failingSince: null, flavor: 'standard' as const, metadata: {}, createdAt: now, updatedAt: now,
  });
  const healthy = await store.createEndpoint(endpoint(newId('ep')), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  const dead = await store.createEndpoint(endpoint(newId('ep')), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');

  // Warm-up, then the empty queue.
  await enqueue(store, app.id, healthy.id);
  await claimAndRecord(store);
  const emptyEnqueue = await enqueue(store, app.id, healthy.id);
  const emptyClaim = await claimAndRecord(store);

  const filled = performance.now();
  await target.fillBacklog(app.id, dead.id, BACKLOG);
  const fillSeconds = (performance.now() - filled) / 1000;
  const depth = await store.queueDepth();
  const backlogEnqueue = await enqueue(store, app.id, healthy.id);
  const backlogClaim = await claimAndRecord(store);
  return { emptyEnqueue, emptyClaim, backlogEnqueue, backlogClaim, fillSeconds, depth, sizes: await target.size() };
}

async function main(): Promise<void> {
  const target = values.db === 'sqlite' ? await sqliteTarget() : await postgresTarget(values.db);
  try {
    console.log(`backlog benchmark on ${target.label}: ${MESSAGES} messages per measurement, batches of ${BATCH}, backlog ${BACKLOG}`);
    const r = await measure(target);
    console.log(`backlog filled in ${r.fillSeconds.toFixed(1)} s; queue depth then: ${r.depth.pending} pending`);
    printTable(`Queue throughput on ${target.label} (per second)`, [
      { operation: 'enqueue (message + delivery)', 'empty queue': Math.round(r.emptyEnqueue), [`${BACKLOG} pending`]: Math.round(r.backlogEnqueue), ratio: r.backlogEnqueue / r.emptyEnqueue },
      { operation: 'claim + record', 'empty queue': Math.round(r.emptyClaim), [`${BACKLOG} pending`]: Math.round(r.backlogClaim), ratio: r.backlogClaim / r.emptyClaim },
    ]);
    const perTable = Object.entries(r.sizes).filter(([, bytes]) => bytes > 1_000_000).map(([name, bytes]) => `${name} ${(bytes / 1e6).toFixed(0)} MB`);
    console.log(`\nsizes with the backlog: ${perTable.join(', ')}`);
    const file = saveResult(`backlog-${target.label.toLowerCase()}`, { date: new Date().toISOString(), backlog: BACKLOG, messages: MESSAGES, ...r });
    console.log(`saved ${file}`);
  } finally {
    await target.dispose();
  }
}

await main();
