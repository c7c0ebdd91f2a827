/**
 * Outbound delivery benchmark: Hookyard end to end (API → SQLite outbox → worker → receiver) and Hookyard's worker
 * draining a backlog, side by side with a raw undici loop doing the same POSTs at the same concurrency (the ceiling).
 *
 *   npx tsx bench/outbound.ts [--messages 20000] [--concurrency 50] [--db sqlite|postgres://…]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { benchDatabase, type BenchDatabase } from './lib/database.js';
import { printTable, saveResult, startProcess, stopProcess, summarize } from './lib/util.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '50' },
    synchronous: { type: 'string', default: 'full' },
    // Comma-separated subset of raw,e2e,drain: handy when working on one of them.
    systems: { type: 'string', default: 'raw,e2e,drain' },
    // Writes a V8 CPU profile of each Hookyard process into this directory.
    'cpu-prof': { type: 'string' },
    // sqlite (default: a fresh file per system) or postgres://… (a fresh schema per system, dropped after).
    db: { type: 'string', default: 'sqlite' },
  },
});
const MESSAGES = Number(values.messages);
const CONCURRENCY = Number(values.concurrency);
// Every system first handles WARMUP requests that are not measured, so that each is compared with a warm JIT.
const WARMUP = Number(values.warmup);
const TOKEN = 'bench-admin-token-0123456789';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAYLOAD_FILL = 'x'.repeat(600); // ~1 KB bodies, a typical event

interface Stats {
  count: number;
  firstAt: number;
  lastAt: number;
  latencies: number[];
}

async function runPool(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) await task(next++);
  }));
}

async function receiverStats(url: string): Promise<Stats> {
  return (await (await fetch(`${url}/stats`)).json()) as Stats;
}

async function waitForCount(url: string, count: number, timeoutMs: number): Promise<{ count: number; lastAt: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = (await (await fetch(`${url}/count`)).json()) as { count: number; lastAt: number };
    if (stats.count >= count) return stats;
    if (Date.now() > deadline) throw new Error(`receiver saw ${stats.count} of ${count} in time`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function rawUndici(receiverUrl: string) {
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 60_000 });
  const post = async (i: number) => {
    const body = JSON.stringify({ i, t0: Date.now(), fill: PAYLOAD_FILL });
    const res = await request(`${receiverUrl}/hook`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
    await res.body.dump();
  };
  await runPool(WARMUP, CONCURRENCY, post);
  await fetch(`${receiverUrl}/reset`, { method: 'POST' });
  const started = Date.now();
  await runPool(MESSAGES, CONCURRENCY, post);
  const elapsed = Date.now() - started;
  const stats = await receiverStats(receiverUrl);
  await agent.close();
  return { rate: (MESSAGES * 1000) / elapsed, ...summarize(stats.latencies), elapsed };
}

const profileFlags = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];

async function startHookyard(dir: string, role: string, database: BenchDatabase) {
  const env = {
    PATH: process.env.PATH,
    HOOKYARD_PORT: '0',
    HOOKYARD_HOST: '127.0.0.1',
    ...database.env,
    HOOKYARD_ADMIN_TOKEN: TOKEN,
    HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: 'true',
    HOOKYARD_LOG_LEVEL: 'warn',
    HOOKYARD_WORKER_CONCURRENCY: String(CONCURRENCY),
    HOOKYARD_ENDPOINT_CONCURRENCY: String(CONCURRENCY),
    HOOKYARD_SQLITE_SYNCHRONOUS: values.synchronous,
  };
  const { child, match } = await startProcess(process.execPath, [...profileFlags, join(ROOT, 'bin/hookyard.js'), 'serve', '--role', role], env, /listening on (http:\/\/[\d.:]+)/, dir);
  return { child, url: match[1]! };
}

async function api(url: string, agent: Agent, path: string, body: unknown): Promise<any> {
  const res = await request(`${url}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    dispatcher: agent,
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${path}: ${res.statusCode} ${text}`);
  return JSON.parse(text);
}

async function sendMessages(url: string, agent: Agent, appId: string, count = MESSAGES): Promise<number> {
  const started = Date.now();
  await runPool(count, CONCURRENCY, async (i) => {
    await api(url, agent, `/api/v1/apps/${appId}/messages`, { eventType: 'bench.event', payload: { i, t0: Date.now(), fill: PAYLOAD_FILL } });
  });
  return Date.now() - started;
}

/** Messages sent through the API while the worker delivers them: what a user sees. */
async function hookyardEndToEnd(receiverUrl: string) {
  await fetch(`${receiverUrl}/reset`, { method: 'POST' });
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-bench-'));
  const database = await benchDatabase(values.db, dir);
  const server = await startHookyard(dir, 'all', database);
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 60_000 });
  try {
    const app = await api(server.url, agent, '/api/v1/apps', { name: 'bench' });
    await api(server.url, agent, `/api/v1/apps/${app.id}/endpoints`, { url: `${receiverUrl}/hook` });
    await sendMessages(server.url, agent, app.id, WARMUP);
    await waitForCount(receiverUrl, WARMUP, 300_000);
    await fetch(`${receiverUrl}/reset`, { method: 'POST' });
    const started = Date.now();
    const acceptMs = await sendMessages(server.url, agent, app.id);
    await waitForCount(receiverUrl, MESSAGES, 300_000);
    const stats = await receiverStats(receiverUrl);
    const elapsed = stats.lastAt - started;
    return { rate: (MESSAGES * 1000) / elapsed, ...summarize(stats.latencies), elapsed, acceptRate: (MESSAGES * 1000) / acceptMs };
  } finally {
    await agent.close();
    await stopProcess(server.child);
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A backlog enqueued by an API-only node, then drained by a worker-only node: the delivery engine alone. */
async function hookyardDrain(receiverUrl: string) {
  await fetch(`${receiverUrl}/reset`, { method: 'POST' });
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-bench-'));
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 60_000 });
  const database = await benchDatabase(values.db, dir);
  try {
    const apiNode = await startHookyard(dir, 'api', database);
    const app = await api(apiNode.url, agent, '/api/v1/apps', { name: 'bench' });
    await api(apiNode.url, agent, `/api/v1/apps/${app.id}/endpoints`, { url: `${receiverUrl}/hook` });
    await sendMessages(apiNode.url, agent, app.id, WARMUP + MESSAGES);
    await stopProcess(apiNode.child);
    const worker = await startHookyard(dir, 'worker', database);
    // The first WARMUP deliveries warm the worker up; the rate is measured over the next MESSAGES.
    const warm = await waitForCount(receiverUrl, WARMUP, 300_000);
    const done = await waitForCount(receiverUrl, WARMUP + MESSAGES, 300_000);
    await stopProcess(worker.child);
    const elapsed = done.lastAt - warm.lastAt;
    return { rate: ((done.count - warm.count) * 1000) / elapsed, elapsed };
  } finally {
    await agent.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { child: receiver, match } = await startProcess(process.execPath, [join(ROOT, 'bench/lib/receiver.mjs')], { PATH: process.env.PATH }, /listening (\d+)/);
  const receiverUrl = `http://127.0.0.1:${match[1]}`;
  try {
    console.log(`outbound benchmark: ${MESSAGES} messages measured after ${WARMUP} of warm-up, concurrency ${CONCURRENCY}, ~1 KB payloads, ${values.db === 'sqlite' ? `SQLite synchronous=${values.synchronous}` : 'PostgreSQL'}`);
    const systems = new Set(values.systems.split(','));
    const raw = await rawUndici(receiverUrl);
    const e2e = systems.has('e2e') ? await hookyardEndToEnd(receiverUrl) : undefined;
    const drain = systems.has('drain') ? await hookyardDrain(receiverUrl) : undefined;
    const rows: Array<Record<string, string | number>> = [
      { system: 'raw undici loop (ceiling)', 'deliveries/s': Math.round(raw.rate), 'p50 ms': raw.p50, 'p99 ms': raw.p99, 'vs raw': 1 },
    ];
    if (e2e) rows.push({ system: 'Hookyard end to end (API → deliver)', 'deliveries/s': Math.round(e2e.rate), 'p50 ms': e2e.p50, 'p99 ms': e2e.p99, 'vs raw': e2e.rate / raw.rate });
    if (drain) rows.push({ system: 'Hookyard worker draining a backlog', 'deliveries/s': Math.round(drain.rate), 'p50 ms': '-', 'p99 ms': '-', 'vs raw': drain.rate / raw.rate });
    printTable('Outbound delivery (latency = handed over → received)', rows);
    if (e2e) console.log(`\nHookyard API acceptance during the end-to-end run: ${Math.round(e2e.acceptRate)} messages/s`);
    const file = saveResult('outbound', { date: new Date().toISOString(), db: values.db === 'sqlite' ? 'sqlite' : 'postgres', messages: MESSAGES, warmup: WARMUP, concurrency: CONCURRENCY, synchronous: values.synchronous, raw, e2e, drain });
    console.log(`saved ${file}`);
  } finally {
    await stopProcess(receiver);
  }
}

await main();
