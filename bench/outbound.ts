/**
 * Outbound delivery benchmark: Hookyard end to end (API → outbox → worker → receiver) and Hookyard's worker draining a
 * backlog, side by side with a raw undici loop doing the same POSTs at the same concurrency (the ceiling) and with a
 * BullMQ queue on the local Redis plus a worker process POSTing with undici (the typical hand-rolled alternative, both
 * ways too); floors (bench/lib/outbound-floor.ts: a plain SQLite queue and attempt log with undici, nothing of
 * Hookyard, draining the same backlog, and the same fed by a plain node:http API that commits before its 202 for the
 * end-to-end run: what a durable sender must cost, apart from what Hookyard costs); and the
 * fan-out of one message to 100 endpoints. Everything goes to one keep-alive receiver. Drain runs also report the
 * sending process's CPU time per delivery (from /proc), steadier than the rate on a shared machine.
 *
 *   npm run build && npx tsx bench/outbound.ts [--messages 20000] [--warmup 5000] [--concurrency 50]
 *     [--systems raw,floor,e2e,e2e-batch,drain,bullmq,fanout] [--db sqlite|postgres://… (repeatable)] [--synchronous full|normal]
 *     [--fanout-rounds 10] [--fanout-burst 100] [--cpu-prof <dir>]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { bullmqClient, bullmqDrain, bullmqEndToEnd, bullmqUnavailable } from './lib/bullmq-sender.js';
import { benchDatabase, type BenchDatabase } from './lib/database.js';
import { ADMIN_TOKEN, hookyardApi, startHookyard } from './lib/hookyard.js';
import { benchPayload, receiverStats, resetReceiver, startReceiver, waitForCount } from './lib/receiver-client.js';
import { goalLines, printRows, type BenchRow } from './lib/report.js';
import { isMain, loadAverage, ROOT, runPool, saveResult, startProcess, stopProcess, summarize } from './lib/util.js';

export interface OutboundOptions {
  messages: number;
  /** Every system first handles this many messages that are not measured, so that each is compared warm. */
  warmup: number;
  concurrency: number;
  /** Subset of raw, floor, e2e, e2e-batch (100 messages a request), drain, bullmq (end to end and drain), fanout. The raw loop runs whenever one of the first six does. */
  systems: string[];
  /** Databases of the Hookyard systems: `sqlite` (a fresh file each) or `postgres://…` (a fresh schema each). */
  dbs: string[];
  /** HOOKYARD_SQLITE_SYNCHRONOUS. */
  synchronous: 'full' | 'normal';
  /** Fan-out: single messages timed one by one, then a burst of this many messages at once. */
  fanoutRounds: number;
  fanoutBurst: number;
  fanoutEndpoints: number;
  /** Writes a V8 CPU profile of each Hookyard process into this directory. */
  cpuProf?: string;
  /** An already running bench/lib/receiver.mjs; otherwise one is started for the run. */
  receiverUrl?: string;
}

export const OUTBOUND_DEFAULTS: OutboundOptions = {
  messages: 20_000,
  warmup: 5_000,
  concurrency: 50,
  systems: ['raw', 'floor', 'e2e', 'e2e-batch', 'drain', 'bullmq'],
  dbs: ['sqlite'],
  synchronous: 'full',
  fanoutRounds: 10,
  fanoutBurst: 100,
  fanoutEndpoints: 100,
};

interface Measured {
  rate: number;
  p50?: number;
  p99?: number;
  max?: number;
  elapsed: number;
  acceptRate?: number;
  /** CPU time (user + system, all threads) the sending process spent per measured delivery, µs. */
  cpuPerDeliveryUs?: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere. */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/** Waits for the warm-up deliveries, then measures the rest: rate, and the sender's CPU per delivery. */
async function measureDrain(receiverUrl: string, o: OutboundOptions, pid: number | undefined): Promise<Measured> {
  const warm = await waitForCount(receiverUrl, o.warmup, 300_000);
  const cpuAtWarm = cpuSeconds(pid);
  const done = await waitForCount(receiverUrl, o.warmup + o.messages, 300_000);
  const cpuAtDone = cpuSeconds(pid);
  const elapsed = done.lastAt - warm.lastAt;
  const counted = done.count - warm.count;
  const cpuPerDeliveryUs = cpuAtWarm === null || cpuAtDone === null ? undefined : ((cpuAtDone - cpuAtWarm) * 1e6) / counted;
  return { rate: (counted * 1000) / elapsed, elapsed, cpuPerDeliveryUs };
}

async function rawUndici(receiverUrl: string, o: OutboundOptions): Promise<Measured> {
  const agent = new Agent({ connections: o.concurrency, keepAliveTimeout: 60_000 });
  const post = async (i: number) => {
    const body = JSON.stringify(benchPayload(i));
    const res = await request(`${receiverUrl}/hook`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
    await res.body.dump();
  };
  await runPool(o.warmup, o.concurrency, post);
  await resetReceiver(receiverUrl);
  const started = Date.now();
  await runPool(o.messages, o.concurrency, post);
  const elapsed = Date.now() - started;
  const stats = await receiverStats(receiverUrl);
  await agent.close();
  return { rate: (o.messages * 1000) / elapsed, ...summarize(stats.latencies), elapsed };
}

/** A Hookyard node (`role`) on `database`, sized like the other systems: `concurrency` deliveries in flight. */
function startNode(dir: string, role: 'all' | 'api' | 'worker', database: BenchDatabase, o: OutboundOptions) {
  return startHookyard({
    dir,
    role,
    cpuProf: o.cpuProf,
    env: {
      ...database.env,
      HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: 'true',
      HOOKYARD_WORKER_CONCURRENCY: String(o.concurrency),
      HOOKYARD_ENDPOINT_CONCURRENCY: String(o.concurrency),
      HOOKYARD_SQLITE_SYNCHRONOUS: o.synchronous,
    },
  });
}

/** A fresh directory and database for one Hookyard system, removed (dropped) afterwards. */
async function withDatabase<T>(db: string, run: (dir: string, database: BenchDatabase) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-bench-'));
  const database = await benchDatabase(db, dir);
  try {
    return await run(dir, database);
  } finally {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An app with `count` endpoints, all pointing at the receiver. */
async function createApp(url: string, agent: Agent, receiverUrl: string, count = 1): Promise<string> {
  const app = await hookyardApi(url, 'POST', '/api/v1/apps', { name: 'bench' }, agent);
  for (let i = 0; i < count; i++) await hookyardApi(url, 'POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiverUrl}/hook/${i}` }, agent);
  return app.id as string;
}

async function sendMessages(url: string, agent: Agent, appId: string, count: number, concurrency: number): Promise<number> {
  const started = Date.now();
  await runPool(count, concurrency, async (i) => {
    await hookyardApi(url, 'POST', `/api/v1/apps/${appId}/messages`, { eventType: 'bench.event', payload: benchPayload(i) }, agent);
  });
  return Date.now() - started;
}

/** Messages per request and requests in flight of the batch sender: a producer that flushes its events in hundreds. */
const BATCH_SIZE = 100;
const BATCHES_IN_FLIGHT = 4;

async function sendBatches(url: string, agent: Agent, appId: string, count: number): Promise<number> {
  const started = Date.now();
  await runPool(Math.ceil(count / BATCH_SIZE), BATCHES_IN_FLIGHT, async (b) => {
    const messages = [];
    for (let i = b * BATCH_SIZE; i < Math.min(count, (b + 1) * BATCH_SIZE); i++) messages.push({ eventType: 'bench.event', payload: benchPayload(i) });
    const res = await hookyardApi(url, 'POST', `/api/v1/apps/${appId}/messages/batch`, { messages }, agent);
    const refused = (res.data as Array<{ status: number }>).filter((r) => r.status !== 202).length;
    if (refused > 0) throw new Error(`the batch route refused ${refused} of ${messages.length} messages`);
  });
  return Date.now() - started;
}

/**
 * End to end: `send(count)` hands `count` messages to a system that delivers them while they come (it returns the ms
 * that took); the warm-up ones first, then the measured ones, timed until the receiver has them all.
 */
async function endToEnd(receiverUrl: string, o: OutboundOptions, pid: number | undefined, send: (count: number) => Promise<number>): Promise<Measured> {
  await send(o.warmup);
  await waitForCount(receiverUrl, o.warmup, 300_000);
  await resetReceiver(receiverUrl);
  const cpuAtStart = cpuSeconds(pid);
  const started = Date.now();
  const acceptMs = await send(o.messages);
  await waitForCount(receiverUrl, o.messages, 300_000);
  const cpuAtDone = cpuSeconds(pid);
  const stats = await receiverStats(receiverUrl);
  const elapsed = stats.lastAt - started;
  const cpuPerDeliveryUs = cpuAtStart === null || cpuAtDone === null ? undefined : ((cpuAtDone - cpuAtStart) * 1e6) / o.messages;
  return { rate: (o.messages * 1000) / elapsed, ...summarize(stats.latencies), elapsed, acceptRate: (o.messages * 1000) / acceptMs, cpuPerDeliveryUs };
}

/** Messages sent through the API while the worker delivers them: what a user sees. `batch` sends them 100 a request. */
function hookyardEndToEnd(receiverUrl: string, db: string, o: OutboundOptions, batch = false): Promise<Measured> {
  return withDatabase(db, async (dir, database) => {
    await resetReceiver(receiverUrl);
    const server = await startNode(dir, 'all', database, o);
    const agent = new Agent({ connections: o.concurrency, keepAliveTimeout: 60_000 });
    try {
      const appId = await createApp(server.url, agent, receiverUrl);
      return await endToEnd(receiverUrl, o, server.child.pid, (count) => (batch ? sendBatches(server.url, agent, appId, count) : sendMessages(server.url, agent, appId, count, o.concurrency)));
    } finally {
      await agent.close();
      await stopProcess(server.child);
    }
  });
}

/** A backlog enqueued by an API-only node, then drained by a worker-only node: the delivery engine alone. */
function hookyardDrain(receiverUrl: string, db: string, o: OutboundOptions): Promise<Measured> {
  return withDatabase(db, async (dir, database) => {
    await resetReceiver(receiverUrl);
    const agent = new Agent({ connections: o.concurrency, keepAliveTimeout: 60_000 });
    try {
      const apiNode = await startNode(dir, 'api', database, o);
      try {
        const appId = await createApp(apiNode.url, agent, receiverUrl);
        await sendMessages(apiNode.url, agent, appId, o.warmup + o.messages, o.concurrency);
      } finally {
        await stopProcess(apiNode.child);
      }
      const worker = await startNode(dir, 'worker', database, o);
      try {
        // The first `warmup` deliveries warm the worker up; the rate is measured over the rest.
        return await measureDrain(receiverUrl, o, worker.child.pid);
      } finally {
        await stopProcess(worker.child);
      }
    } finally {
      await agent.close();
    }
  });
}

/**
 * The floor (bench/lib/outbound-floor.ts): a plain SQLite queue and attempt log with undici, draining a backlog
 * (`drain`), or fed through a plain node:http API while it delivers (`e2e`), or that with the work Hookyard's contract
 * requires of each message (`e2e-full`: fed through the same send route and client as Hookyard).
 */
async function floor(receiverUrl: string, o: OutboundOptions, mode: 'drain' | 'e2e' | 'e2e-full'): Promise<Measured> {
  await resetReceiver(receiverUrl);
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-floor-'));
  const env = {
    PATH: process.env.PATH,
    FLOOR_DB: join(dir, 'floor.db'),
    FLOOR_TARGET: `${receiverUrl}/hook/floor`,
    FLOOR_CONCURRENCY: String(o.concurrency),
    FLOOR_COUNT: String(o.warmup + o.messages),
    FLOOR_SYNCHRONOUS: o.synchronous,
    FLOOR_MODE: mode,
    FLOOR_TOKEN: ADMIN_TOKEN,
  };
  const profile = o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${resolve(o.cpuProf)}`] : [];
  const ready = mode === 'drain' ? /floor draining/ : /floor listening on (http:\/\/[\d.:]+)/;
  const { child, match } = await startProcess(process.execPath, [...profile, '--import', 'tsx', join(ROOT, 'bench/lib/outbound-floor.ts')], env, ready, ROOT);
  const agent = new Agent({ connections: o.concurrency, keepAliveTimeout: 60_000 });
  try {
    if (mode === 'drain') return await measureDrain(receiverUrl, o, child.pid);
    if (mode === 'e2e-full') return await endToEnd(receiverUrl, o, child.pid, (count) => sendMessages(match[1]!, agent, 'app_floor', count, o.concurrency));
    return await endToEnd(receiverUrl, o, child.pid, async (count) => {
      const started = Date.now();
      await runPool(count, o.concurrency, async (i) => {
        const res = await request(`${match[1]}/msg`, { method: 'POST', body: JSON.stringify({ payload: benchPayload(i) }), headers: { 'content-type': 'application/json' }, dispatcher: agent });
        await res.body.dump();
        if (res.statusCode !== 202) throw new Error(`the floor answered ${res.statusCode}`);
      });
      return Date.now() - started;
    });
  } finally {
    await agent.close();
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sending process's CPU per delivery (end to end: the one process that accepts and delivers, `process`). */
const cpuNote = (m: Measured, who = 'sender'): string => (m.cpuPerDeliveryUs === undefined ? '' : `; ${who} CPU ${Math.round(m.cpuPerDeliveryUs)} µs/delivery`);

export interface FanoutResult {
  endpoints: number;
  /** ms from the API call of one message until the last of its `endpoints` deliveries was received, per round. */
  allReceivedMs: number[];
  /** Median of allReceivedMs; its deliveries/s is endpoints / that. */
  medianAllReceivedMs: number;
  single: { rate: number; p50: number; p99: number };
  /** `burst` messages sent at once: deliveries/s over burst × endpoints, and each delivery's latency. */
  burst: { messages: number; deliveries: number; rate: number; p50: number; p99: number; elapsed: number };
}

/** One message to `fanoutEndpoints` endpoints through the API: time until all are received, then a burst. */
export function hookyardFanout(receiverUrl: string, db: string, o: OutboundOptions): Promise<FanoutResult> {
  const n = o.fanoutEndpoints;
  return withDatabase(db, async (dir, database) => {
    const server = await startNode(dir, 'all', database, o);
    const agent = new Agent({ connections: o.concurrency, keepAliveTimeout: 60_000 });
    try {
      const appId = await createApp(server.url, agent, receiverUrl, n);
      const send = (i: number) => hookyardApi(server.url, 'POST', `/api/v1/apps/${appId}/messages`, { eventType: 'bench.fanout', payload: benchPayload(i) }, agent);
      // Warm-up: a few fan-outs, not measured.
      await resetReceiver(receiverUrl);
      await runPool(5, 5, async (i) => void (await send(i)));
      await waitForCount(receiverUrl, 5 * n, 120_000);
      const allReceivedMs: number[] = [];
      const latencies: number[] = [];
      for (let round = 0; round < o.fanoutRounds; round++) {
        await resetReceiver(receiverUrl);
        const started = Date.now();
        await send(round);
        await waitForCount(receiverUrl, n, 120_000, 10);
        const stats = await receiverStats(receiverUrl);
        allReceivedMs.push(stats.lastAt - started);
        latencies.push(...stats.latencies);
      }
      await resetReceiver(receiverUrl);
      const started = Date.now();
      await runPool(o.fanoutBurst, o.concurrency, async (i) => void (await send(i)));
      await waitForCount(receiverUrl, o.fanoutBurst * n, 300_000);
      const stats = await receiverStats(receiverUrl);
      const elapsed = stats.lastAt - started;
      const medianAllReceivedMs = summarize(allReceivedMs).p50;
      const single = summarize(latencies);
      return {
        endpoints: n,
        allReceivedMs,
        medianAllReceivedMs,
        single: { rate: (n * 1000) / medianAllReceivedMs, p50: single.p50, p99: single.p99 },
        burst: { messages: o.fanoutBurst, deliveries: o.fanoutBurst * n, rate: (o.fanoutBurst * n * 1000) / elapsed, ...summarize(stats.latencies), elapsed },
      };
    } finally {
      await agent.close();
      await stopProcess(server.child);
    }
  });
}

const dbLabel = (db: string) => (db === 'sqlite' ? 'SQLite' : 'PostgreSQL');

export interface OutboundRun {
  key: string;
  db?: string;
  loadAverage: number;
  result: Measured | FanoutResult;
}

/** Runs the chosen systems one after the other on one receiver; returns the rows of the combined table and the data. */
export async function runOutbound(options: Partial<OutboundOptions> = {}): Promise<{ rows: BenchRow[]; runs: OutboundRun[]; options: OutboundOptions; notes: string[] }> {
  const o: OutboundOptions = { ...OUTBOUND_DEFAULTS, ...options };
  const systems = new Set(o.systems);
  const notes: string[] = [];
  const own = o.receiverUrl ? undefined : await startReceiver();
  const receiverUrl = o.receiverUrl ?? own!.url;
  const runs: OutboundRun[] = [];
  const rows: BenchRow[] = [];
  const measure = async <T extends Measured | FanoutResult>(key: string, db: string | undefined, run: () => Promise<T>): Promise<T> => {
    const loadAverageBefore = loadAverage();
    console.log(`  outbound: ${key}${db ? ` on ${dbLabel(db)}` : ''}…`);
    const result = await run();
    runs.push({ key, db: db && dbLabel(db), loadAverage: loadAverageBefore, result });
    return result;
  };
  try {
    const wanted = ['raw', 'floor', 'e2e', 'e2e-batch', 'drain', 'bullmq'].some((key) => systems.has(key));
    const raw = wanted ? await measure('raw', undefined, () => rawUndici(receiverUrl, o)) : undefined;
    const floorDrain = systems.has('floor') ? await measure('floor', undefined, () => floor(receiverUrl, o, 'drain')) : undefined;
    const floorE2e = systems.has('floor') ? await measure('floor-e2e', undefined, () => floor(receiverUrl, o, 'e2e')) : undefined;
    const floorFull = systems.has('floor') ? await measure('floor-e2e-full', undefined, () => floor(receiverUrl, o, 'e2e-full')) : undefined;
    const hookyard: Array<{ key: 'e2e' | 'e2e-batch' | 'drain'; db: string; result: Measured; loadAverage: number }> = [];
    for (const db of o.dbs) {
      for (const key of ['e2e', 'e2e-batch', 'drain'] as const) {
        if (!systems.has(key)) continue;
        const run = { e2e: () => hookyardEndToEnd(receiverUrl, db, o), 'e2e-batch': () => hookyardEndToEnd(receiverUrl, db, o, true), drain: () => hookyardDrain(receiverUrl, db, o) }[key];
        const result = await measure(key, db, run);
        hookyard.push({ key, db, result, loadAverage: runs.at(-1)!.loadAverage });
      }
    }
    const bullmq: Partial<Record<'e2e' | 'drain', Measured>> = {};
    if (systems.has('bullmq')) {
      const unavailable = await bullmqUnavailable();
      if (unavailable) notes.push(`SKIPPED the BullMQ sender: ${unavailable}`);
      else {
        bullmq.e2e = await measure('bullmq-e2e', undefined, () => bullmqEndToEnd(receiverUrl, o));
        bullmq.drain = await measure('bullmq-drain', undefined, () => bullmqDrain(receiverUrl, o));
        notes.push(`BullMQ's Redis client: ${bullmqClient}`);
      }
    }
    const fanouts = [];
    if (systems.has('fanout')) for (const db of o.dbs) fanouts.push({ db, result: await measure('fanout', db, () => hookyardFanout(receiverUrl, db, o)), loadAverage: runs.at(-1)!.loadAverage });

    // Rows
    const load = (key: string, db?: string) => runs.find((r) => r.key === key && r.db === (db && dbLabel(db)))!.loadAverage;
    if (raw) rows.push({ section: 'outbound', system: 'raw undici loop (ceiling)', unit: 'deliveries/s', rate: raw.rate, p50: raw.p50, p99: raw.p99, loadAverage: load('raw'), note: 'no queue, no signing' });
    if (floorDrain) {
      rows.push({
        section: 'outbound',
        system: 'floor: SQLite queue + attempt log + undici, no framework, draining a backlog',
        unit: 'deliveries/s',
        rate: floorDrain.rate,
        ratios: raw ? { raw: floorDrain.rate / raw.rate } : undefined,
        loadAverage: load('floor'),
        note: `enqueued first; unsigned; synchronous=${o.synchronous}${cpuNote(floorDrain)}`,
      });
    }
    if (floorE2e) {
      rows.push({
        section: 'outbound',
        system: 'floor end to end: the same, fed by a node:http API that commits before its 202',
        unit: 'deliveries/s',
        rate: floorE2e.rate,
        p50: floorE2e.p50,
        p99: floorE2e.p99,
        ratios: raw ? { raw: floorE2e.rate / raw.rate } : undefined,
        loadAverage: load('floor-e2e'),
        note: `API accepted ${Math.round(floorE2e.acceptRate!).toLocaleString('en-US')} msgs/s; unsigned; synchronous=${o.synchronous}${cpuNote(floorE2e, 'process')}`,
      });
    }
    if (floorFull) {
      rows.push({
        section: 'outbound',
        system: "floor end to end with the contract's work: the same on Hookyard's tables, through its send route, signed",
        unit: 'deliveries/s',
        rate: floorFull.rate,
        p50: floorFull.p50,
        p99: floorFull.p99,
        ratios: { ...(raw ? { raw: floorFull.rate / raw.rate } : {}), ...(floorE2e ? { floor: floorFull.rate / floorE2e.rate } : {}) },
        loadAverage: load('floor-e2e-full'),
        note: `API accepted ${Math.round(floorFull.acceptRate!).toLocaleString('en-US')} msgs/s; bearer token, checks, full answer, signed, attempts with response; synchronous=${o.synchronous}${cpuNote(floorFull, 'process')}`,
      });
    }
    for (const { key, db, result } of hookyard) {
      const ratios: Record<string, number> = {};
      if (raw) ratios.raw = result.rate / raw.rate;
      const floorOfKey = key === 'drain' ? floorDrain : floorE2e;
      if (floorOfKey) ratios.floor = result.rate / floorOfKey.rate;
      if (key !== 'drain' && floorFull) ratios['full floor'] = result.rate / floorFull.rate;
      if (key !== 'e2e-batch' && bullmq[key]) ratios[`BullMQ ${key === 'e2e' ? 'e2e' : 'drain'}`] = result.rate / bullmq[key]!.rate;
      const system = { e2e: 'Hookyard end to end', 'e2e-batch': `Hookyard end to end, ${BATCH_SIZE} messages a request`, drain: 'Hookyard worker draining a backlog' }[key];
      rows.push({
        section: 'outbound',
        system: `${system}, ${dbLabel(db)}`,
        unit: 'deliveries/s',
        rate: result.rate,
        p50: result.p50,
        p99: result.p99,
        ratios,
        loadAverage: load(key, db),
        note: key !== 'drain' ? `API accepted ${Math.round(result.acceptRate!).toLocaleString('en-US')} msgs/s; signed${cpuNote(result, 'process')}` : `enqueued first; signed${cpuNote(result)}`,
      });
    }
    for (const key of ['e2e', 'drain'] as const) {
      const result = bullmq[key];
      if (!result) continue;
      rows.push({
        section: 'outbound',
        system: key === 'e2e' ? 'BullMQ + undici worker, end to end' : 'BullMQ + undici worker draining a backlog',
        unit: 'deliveries/s',
        rate: result.rate,
        p50: result.p50,
        p99: result.p99,
        ratios: raw ? { raw: result.rate / raw.rate } : undefined,
        loadAverage: load(`bullmq-${key}`),
        note: key === 'e2e' ? `queue.add ${Math.round(result.acceptRate!).toLocaleString('en-US')} msgs/s; unsigned` : 'enqueued first; unsigned',
      });
    }
    for (const { db, result, loadAverage: loadAverageBefore } of fanouts) {
      const times = result.allReceivedMs;
      rows.push({
        section: 'fan-out',
        system: `Hookyard, 1 message → ${result.endpoints} endpoints, ${dbLabel(db)}`,
        unit: 'deliveries/s',
        rate: result.single.rate,
        p50: result.single.p50,
        p99: result.single.p99,
        loadAverage: loadAverageBefore,
        note: `all ${result.endpoints} received in ${result.medianAllReceivedMs} ms (median of ${times.length}; ${Math.min(...times)}–${Math.max(...times)})`,
      });
      rows.push({
        section: 'fan-out',
        system: `Hookyard, ${result.burst.messages} messages × ${result.endpoints} endpoints, ${dbLabel(db)}`,
        unit: 'deliveries/s',
        rate: result.burst.rate,
        p50: result.burst.p50,
        p99: result.burst.p99,
        loadAverage: loadAverageBefore,
        note: `${result.burst.deliveries.toLocaleString('en-US')} deliveries in ${(result.burst.elapsed / 1000).toFixed(1)} s`,
      });
    }
    return { rows, runs, options: o, notes };
  } finally {
    if (own) await stopProcess(own.child);
  }
}

/** The issue's goals for Hookyard's delivery: ≥ 0.6× the raw loop and ≥ 2× the BullMQ sender (the floor: no goal). */
export const outboundGoals = (rows: BenchRow[]) => goalLines(rows, 'outbound', (name) => (name === 'raw' ? 0.6 : name === 'floor' || name === 'full floor' ? undefined : 2));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: String(OUTBOUND_DEFAULTS.messages) },
      warmup: { type: 'string', default: String(OUTBOUND_DEFAULTS.warmup) },
      concurrency: { type: 'string', default: String(OUTBOUND_DEFAULTS.concurrency) },
      synchronous: { type: 'string', default: OUTBOUND_DEFAULTS.synchronous },
      // Comma-separated subset of raw,floor,e2e,e2e-batch,drain,bullmq,fanout: handy when working on one of them.
      systems: { type: 'string', default: OUTBOUND_DEFAULTS.systems.join(',') },
      'cpu-prof': { type: 'string' },
      // sqlite (default: a fresh file per system) or postgres://… (a fresh schema per system, dropped after); repeatable.
      db: { type: 'string', multiple: true, default: OUTBOUND_DEFAULTS.dbs },
      'fanout-rounds': { type: 'string', default: String(OUTBOUND_DEFAULTS.fanoutRounds) },
      'fanout-burst': { type: 'string', default: String(OUTBOUND_DEFAULTS.fanoutBurst) },
    },
  });
  const options: OutboundOptions = {
    ...OUTBOUND_DEFAULTS,
    messages: Number(values.messages),
    warmup: Number(values.warmup),
    concurrency: Number(values.concurrency),
    synchronous: values.synchronous === 'normal' ? 'normal' : 'full',
    systems: values.systems.split(','),
    dbs: values.db,
    fanoutRounds: Number(values['fanout-rounds']),
    fanoutBurst: Number(values['fanout-burst']),
    cpuProf: values['cpu-prof'],
  };
  console.log(`outbound benchmark: ${options.messages} messages measured after ${options.warmup} of warm-up, concurrency ${options.concurrency}, ~1 KB payloads, Hookyard on ${options.dbs.map(dbLabel).join(' and ')} (SQLite synchronous=${options.synchronous}); load average ${loadAverage()}`);
  const { rows, runs, notes } = await runOutbound(options);
  printRows('Outbound delivery (latency = handed over → received)', rows);
  for (const line of [...notes, ...outboundGoals(rows)]) console.log(line);
  const file = saveResult('outbound', { date: new Date().toISOString(), options, runs, notes });
  console.log(`saved ${file}`);
}

if (isMain(import.meta.url)) await main();
