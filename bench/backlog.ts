/**
 * Queue cost at a large backlog: enqueue (message + delivery commit) and claim+record throughput of the store, and the
 * process's RSS, on an empty queue and next to growing numbers of pending deliveries (100,000 then 1,000,000 by
 * default), on SQLite and PostgreSQL. The goal is ≥ 0.8× the empty-queue throughput at the backlog. The store is driven
 * directly (no HTTP) in this process, so the figures are the queue's own and the RSS is the store's process's.
 *
 *   npx tsx bench/backlog.ts [--db sqlite|postgres://…] [--backlog 100000,1000000] [--messages 20000] [--json]
 *
 * --json: also prints the result as one `BACKLOG_RESULT {…}` line (what `runBacklogIsolated` reads).
 */
import { spawn } from 'node:child_process';
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
import type { BenchRow } from './lib/report.js';
import { ROOT, isMain, loadAverage, printTable, saveResult } from './lib/util.js';

export interface BacklogOptions {
  /** sqlite (a fresh file) or postgres://… (a fresh schema, dropped after). */
  db: string;
  /** Pending deliveries to measure next to, ascending: the backlog is grown from one to the next. 0 is always measured. */
  levels: number[];
  /** Messages per measurement (enqueue, then claim + record). */
  messages: number;
}

export const BACKLOG_DEFAULTS: BacklogOptions = { db: 'sqlite', levels: [100_000, 1_000_000], messages: 20_000 };

const BATCH = 100;
const box = SecretBox.fromKey('cd'.repeat(32));
const PAYLOAD = JSON.stringify({ fill: 'x'.repeat(600) });

interface Target {
  label: string;
  store: Store;
  /**
   * Adds `count` pending deliveries due in a day (an unreachable endpoint's retries) with one bulk statement; `from`:
   * how many such were added before (their ids go on from there).
   */
  fillBacklog(appId: string, endpointId: string, from: number, count: number): Promise<void>;
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
    async fillBacklog(appId, endpointId, from, count) {
      // A second connection: the store's is busy with nothing now, and WAL lets both work on the file.
      const db = new Database(path);
      const due = Date.now() + 86_400_000;
      db.exec(`
        WITH RECURSIVE n(x) AS (SELECT ${from + 1} UNION ALL SELECT x + 1 FROM n WHERE x < ${from + count})
        INSERT INTO messages (id, app_id, event_type, event_id, payload, created_at)
          SELECT printf('msg_backlog%09d', x), '${appId}', 'backlog', NULL, '${PAYLOAD}', ${Date.now()} FROM n;
        INSERT INTO deliveries (message_id, endpoint_id, app_id, status, next_attempt_at, created_at, updated_at)
          SELECT id, '${endpointId}', '${appId}', 'pending', ${due}, created_at, created_at FROM messages
          WHERE event_type = 'backlog' AND id > printf('msg_backlog%09d', ${from});`);
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
    async fillBacklog(appId, endpointId, from, count) {
      const due = Date.now() + 86_400_000;
      await admin.query(`SET search_path = ${schema}`);
      await admin.query(
        `INSERT INTO messages (id, app_id, event_type, event_id, payload, created_at)
         SELECT 'msg_backlog' || lpad(g::text, 9, '0'), $1, 'backlog', NULL, $2, $3 FROM generate_series($4::int, $5::int) g`,
        [appId, PAYLOAD, Date.now(), from + 1, from + count],
      );
      await admin.query(
        `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, next_attempt_at, created_at, updated_at)
         SELECT id, $2, $1, 'pending', $3, created_at, created_at FROM messages
         WHERE event_type = 'backlog' AND id > 'msg_backlog' || lpad($4::text, 9, '0')`,
        [appId, endpointId, due, from],
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
async function enqueue(store: Store, appId: string, endpointId: string, messages: number): Promise<number> {
  const started = performance.now();
  for (let done = 0; done < messages; done += BATCH) {
    const now = Date.now();
    await store.insertMessages(Array.from({ length: BATCH }, () => ({
      message: { id: newId('msg', now), appId, eventType: 'bench', eventId: null, payload: PAYLOAD, channels: null, resourceUrl: null, createdAt: now },
      endpointIds: [endpointId],
    })));
  }
  return (messages * 1000) / (performance.now() - started);
}

/** Deliveries/s claimed and recorded as delivered, in the worker's batch size. */
async function claimAndRecord(store: Store, messages: number): Promise<number> {
  const started = performance.now();
  let done = 0;
  while (done < messages) {
    const now = Date.now();
    const claimed = await store.claimDueDeliveries({ now, limit: BATCH, leaseUntil: now + 30_000, owner: 'bench', excludeEndpoints: [] });
    if (claimed.length === 0) break;
    const outcomes = claimed.map((d) => decideOutcome(d, 'http://bench', { kind: 'response', statusCode: 200, headers: {}, body: '', durationMs: 1 }, now, { retrySchedule: [5_000] }));
    await store.recordOutcomes(outcomes, { now, disableAfterMs: 86_400_000, owner: 'bench' });
    done += claimed.length;
  }
  return (done * 1000) / (performance.now() - started);
}

const megabytes = (bytes: number) => Math.round(bytes / 1e5) / 10;

export interface BacklogLevel {
  /** Pending deliveries of the unreachable endpoint during this measurement. */
  pending: number;
  enqueue: number;
  claim: number;
  /** process.memoryUsage() after the measurement (and a full GC where exposed), MB. */
  rssMB: number;
  heapUsedMB: number;
  /** Seconds it took to add this level's backlog (0 for the empty queue). */
  fillSeconds: number;
  loadAverage: number;
}

export interface BacklogResult {
  label: 'SQLite' | 'PostgreSQL';
  messages: number;
  /** RSS right after the store was opened, before any work, MB. */
  baselineRssMB: number;
  levels: BacklogLevel[];
  depth: Record<string, number>;
  /** Bytes per table (and, on SQLite, index) with the largest backlog. */
  sizes: Record<string, number>;
  /** A claim that skips the endpoint of the largest backlog, all of it due ahead (see claimSkipping). */
  skipClaim?: { skippedDue: number; medianMs: number; runs: number[] };
}

async function measure(target: Target, o: BacklogOptions): Promise<BacklogResult> {
  const { store } = target;
  const baselineRssMB = megabytes(process.memoryUsage().rss);
  const now = Date.now();
  const app = await store.createApp({ id: newId('app'), uid: null, name: 'bench', metadata: {}, portal: null, createdAt: now, updatedAt: now });
  const endpoint = (id: string) => ({
    id, appId: app.id, url: 'http://bench.invalid/', description: '', eventTypes: null, headers: {}, rateLimit: null, timeoutMs: null,
    disabled: false, disabledReason: null, failingSince: null, flavor: 'standard' as const, channels: null, payloadMode: 'full' as const, ordering: 'parallel' as const, metadata: {}, createdAt: now, updatedAt: now,
  });
  const healthy = await store.createEndpoint(endpoint(newId('ep')), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  const dead = await store.createEndpoint(endpoint(newId('ep')), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');

  // Warm-up, then the empty queue, then each backlog in turn.
  await enqueue(store, app.id, healthy.id, o.messages);
  await claimAndRecord(store, o.messages);
  const levels: BacklogLevel[] = [];
  let filled = 0;
  for (const pending of [0, ...o.levels.filter((level) => level > 0)]) {
    const fillStarted = performance.now();
    if (pending > filled) {
      await target.fillBacklog(app.id, dead.id, filled, pending - filled);
      filled = pending;
    }
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    const before = loadAverage();
    const enqueued = await enqueue(store, app.id, healthy.id, o.messages);
    const claimed = await claimAndRecord(store, o.messages);
    // With --expose-gc (as runBacklogIsolated starts it), the warm-up's garbage is not counted.
    (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    levels.push({ pending, enqueue: enqueued, claim: claimed, rssMB: megabytes(memory.rss), heapUsedMB: megabytes(memory.heapUsed), fillSeconds, loadAverage: before });
    console.log(`  ${target.label}, ${pending.toLocaleString('en-US')} pending${pending > 0 ? ` (added in ${fillSeconds.toFixed(1)} s)` : ''}: enqueue ${Math.round(enqueued)}/s, claim + record ${Math.round(claimed)}/s, RSS ${megabytes(memory.rss)} MB`);
  }
  const depth = await store.queueDepth();
  const skipClaim = filled > 0 ? await claimSkipping(store, app.id, healthy.id, dead.id, filled) : undefined;
  if (skipClaim) console.log(`  ${target.label}, a claim skipping an endpoint with ${filled.toLocaleString('en-US')} due deliveries ahead: ${skipClaim.medianMs.toFixed(1)} ms (median of ${skipClaim.runs.length})`);
  return { label: target.label as BacklogResult['label'], messages: o.messages, baselineRssMB, levels, depth, sizes: await target.size(), skipClaim };
}

/**
 * A worker skips endpoints at their in-flight cap or waiting for their rate limit. With such an endpoint's backlog
 * due ahead of everything else (here: the unreachable endpoint's, made due by claiming two days from now), how long
 * does a claim of another endpoint's 100 deliveries take? Median of 5.
 */
async function claimSkipping(store: Store, appId: string, healthyId: string, skippedId: string, skippedDue: number): Promise<{ skippedDue: number; medianMs: number; runs: number[] }> {
  const later = Date.now() + 36 * 3_600_000; // after the backlog's due time (a day from now), before the claim's
  await store.insertMessages(Array.from({ length: 500 }, (_, i) => ({
    message: { id: newId('msg', later), appId, eventType: 'bench', eventId: null, payload: PAYLOAD, channels: null, resourceUrl: null, createdAt: later + i },
    endpointIds: [healthyId],
  })));
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const now = Date.now() + 48 * 3_600_000;
    const started = performance.now();
    const claimed = await store.claimDueDeliveries({ now, limit: BATCH, leaseUntil: now + 30_000, owner: 'bench', excludeEndpoints: [skippedId] });
    runs.push(performance.now() - started);
    if (claimed.length !== BATCH || claimed.some((d) => d.endpointId !== healthyId)) throw new Error(`a skipping claim got ${claimed.length} deliveries`);
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return { skippedDue, medianMs: sorted[2]!, runs };
}

/** Runs the backlog benchmark in this process (its RSS is this process's). */
export async function runBacklog(options: Partial<BacklogOptions> = {}): Promise<BacklogResult> {
  const o: BacklogOptions = { ...BACKLOG_DEFAULTS, ...options };
  const target = o.db === 'sqlite' ? await sqliteTarget() : await postgresTarget(o.db);
  try {
    console.log(`backlog benchmark on ${target.label}: ${o.messages} messages per measurement, batches of ${BATCH}, backlogs ${[0, ...o.levels].map((l) => l.toLocaleString('en-US')).join(' → ')}`);
    return await measure(target, o);
  } finally {
    await target.dispose();
  }
}

/**
 * The same in a fresh child process (`bench/backlog.ts --json`), so that its RSS is the store's alone and not that of
 * whatever ran before in the caller (the other benchmarks of `npm run bench`).
 */
export function runBacklogIsolated(options: Partial<BacklogOptions> = {}): Promise<BacklogResult> {
  const o: BacklogOptions = { ...BACKLOG_DEFAULTS, ...options };
  const args = ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench/backlog.ts'), '--db', o.db, '--backlog', o.levels.join(','), '--messages', String(o.messages), '--json', '--quiet'];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let result: BacklogResult | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (let newline = out.indexOf('\n'); newline !== -1; newline = out.indexOf('\n')) {
      const line = out.slice(0, newline);
      out = out.slice(newline + 1);
      if (line.startsWith('BACKLOG_RESULT ')) result = JSON.parse(line.slice('BACKLOG_RESULT '.length)) as BacklogResult;
      else console.log(line);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`bench/backlog.ts --db ${o.db} exited with ${code}`))));
  });
}

/** Rows of the combined table: enqueue and claim + record at each backlog, with the ratio to the empty queue and RSS. */
export function backlogRows(result: BacklogResult): BenchRow[] {
  const empty = result.levels[0]!;
  const skip = result.skipClaim;
  const skipRow: BenchRow[] = skip ? [{
    section: 'scale',
    system: `${result.label} store, a claim skipping an endpoint with ${skip.skippedDue.toLocaleString('en-US')} due ahead`,
    unit: 'claims/s',
    rate: 1000 / skip.medianMs,
    loadAverage: loadAverage(),
    note: `${skip.medianMs.toFixed(1)} ms per claim of 100 (median of ${skip.runs.length})`,
  }] : [];
  return [...result.levels.flatMap((level) => (['enqueue', 'claim'] as const).map((op): BenchRow => ({
    section: 'scale',
    system: `${result.label} store, ${level.pending.toLocaleString('en-US')} pending: ${op === 'enqueue' ? 'enqueue' : 'claim + record'}`,
    unit: op === 'enqueue' ? 'msgs/s' : 'deliveries/s',
    rate: level[op],
    ratios: level.pending === 0 ? undefined : { 'empty queue': level[op] / empty[op] },
    loadAverage: level.loadAverage,
    note: `RSS ${Math.round(level.rssMB)} MB, heap ${Math.round(level.heapUsedMB)} MB`,
  }))), ...skipRow];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      db: { type: 'string', default: BACKLOG_DEFAULTS.db },
      backlog: { type: 'string', default: BACKLOG_DEFAULTS.levels.join(',') },
      messages: { type: 'string', default: String(BACKLOG_DEFAULTS.messages) },
      json: { type: 'boolean', default: false },
      // No table and no result file (for runBacklogIsolated, which prints and saves its own).
      quiet: { type: 'boolean', default: false },
    },
  });
  const r = await runBacklog({ db: values.db, levels: values.backlog.split(',').map(Number), messages: Number(values.messages) });
  if (!values.quiet) {
    const empty = r.levels[0]!;
    printTable(`Queue throughput on ${r.label} (per second) and RSS of the process`, r.levels.map((level) => ({
      pending: level.pending,
      enqueue: Math.round(level.enqueue),
      'enqueue vs empty': level.enqueue / empty.enqueue,
      'claim + record': Math.round(level.claim),
      'claim vs empty': level.claim / empty.claim,
      'RSS MB': level.rssMB,
    })));
    const perTable = Object.entries(r.sizes).filter(([, bytes]) => bytes > 1_000_000).map(([name, bytes]) => `${name} ${(bytes / 1e6).toFixed(0)} MB`);
    console.log(`\nqueue depth at the end: ${JSON.stringify(r.depth)}; sizes: ${perTable.join(', ')}`);
    const file = saveResult(`backlog-${r.label.toLowerCase()}`, { date: new Date().toISOString(), ...r });
    console.log(`saved ${file}`);
  }
  if (values.json) console.log(`BACKLOG_RESULT ${JSON.stringify(r)}`);
}

if (isMain(import.meta.url)) await main();
