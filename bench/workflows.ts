/**
 * Workflow benchmark (issue 14): what a three-node workflow (condition → create → http-request) costs the receiving
 * path, in one run, interleaved (A B A B …) because the machine is noisy:
 *
 * - no workflow: the source alone, async (receive → verify nothing → commit → 202);
 * - async workflow: the same source with the workflow; each request's execution runs in the background (claimed,
 *   three nodes, each node's start and end committed) and the http-request node posts to a local receiver. The
 *   ingest rate is measured while the executions run beside it, and the drain rate (executions finished per second,
 *   until the last one) tells whether the background keeps up;
 * - sync workflow at half the async rate: the same nodes plus a respond node, the sender waiting for the answer, sent
 *   open-loop at a fixed rate of half what the async workflow ingested: its p99 latency.
 *
 *   npm run build && npx tsx bench/workflows.ts [--duration 5] [--rounds 3] [--connections 20]
 *
 * Beside them, the floor (bench/lib/workflow-floor.mjs): plain node:http + better-sqlite3 storing each request with its run
 * queued in the same (grouped) commit, and runs that evaluate the condition, insert the document and POST to the same
 * receiver, three grouped commits per run, nothing of Hookyard: its ratio is what the workflow's work costs by itself.
 *
 * Load comes from this process (undici), always to 127.0.0.1, bounded in time. Goals: the async workflow costs < 30%
 * of ingest throughput (≥ 0.7× the source alone); p99 of a sync answer < 50 ms at half that load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { closedLoop, type Measured } from './lib/closed-loop.js';
import { hookyardApi, startHookyard, type HookyardProcess } from './lib/hookyard.js';
import { resetReceiver, startReceiver, waitForCount, type Receiver } from './lib/receiver-client.js';
import { ROOT, isMain, loadAverage, printTable, saveResult, startProcess, stopProcess, summarize } from './lib/util.js';

export interface WorkflowsOptions {
  duration: number;
  rounds: number;
  connections: number;
}

const DEFAULTS: WorkflowsOptions = { duration: 5, rounds: 3, connections: 20 };
const WARMUP_MS = 1_000;

const nodes = (receiverUrl: string, respond: boolean) => [
  { key: 'big', type: 'condition', config: { expression: '$context.data.amount > 100' }, then: 'save', else: null },
  { key: 'save', type: 'create', config: { collection: 'bench-orders', values: { n: '{{$context.data.n}}', amount: '{{$context.data.amount}}' } }, next: 'call' },
  { key: 'call', type: 'http-request', config: { url: `${receiverUrl}/erp`, body: { n: '{{$context.data.n}}', order: '{{$jobsMapByNodeKey.save._id}}' } }, ...(respond ? { next: 'answer' } : {}) },
  ...(respond ? [{ key: 'answer', type: 'respond', config: { status: 200, body: { order: '{{$jobsMapByNodeKey.save._id}}' } } }] : []),
];

const body = (n: number) => `{"n":${n},"amount":${150 + (n % 7)}}`;

const load = (url: string, path: string, connections: number, ms: number, expect: number): Promise<Measured> =>
  closedLoop(url, path, connections, ms, body, (status) => status === expect);

/** Open loop: one request every 1/rate s for `ms`, whatever the answers take (latency includes any queueing). */
async function openLoop(url: string, path: string, rate: number, ms: number): Promise<Measured> {
  const pool = new Pool(url, { connections: 64, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const total = Math.floor((rate * ms) / 1000);
  const sends: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    sends.push((async () => {
      const t = performance.now();
      const res = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body: body(i) });
      const text = await res.body.text();
      latencies.push(performance.now() - t);
      if (res.statusCode !== 200 || !text.includes('"order"')) errors++;
    })());
  }
  await Promise.all(sends);
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { requests: total, errors, seconds, latencies };
}

async function withServer<T>(receiver: Receiver, run: (server: HookyardProcess) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-bench-workflows-'));
  const server = await startHookyard({
    dir,
    env: { HOOKYARD_DATABASE_URL: join(dir, 'hookyard.db'), HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: 'true', HOOKYARD_HANDLER_THREADS: '0' },
  });
  try {
    await resetReceiver(receiver.url);
    return await run(server);
  } finally {
    await stopProcess(server.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The ingest rate with or without the workflow, and (with it) how fast the executions drain. */
async function measureAsync(receiver: Receiver, workflow: boolean, options: WorkflowsOptions): Promise<Measured & { drainPerSecond: number | null }> {
  return withServer(receiver, async (server) => {
    await hookyardApi(server.url, 'POST', '/api/v1/sources', { name: 'orders' });
    if (workflow) await hookyardApi(server.url, 'POST', '/api/v1/workflows', { key: 'orders-flow', trigger: { type: 'webhook', source: 'orders' }, nodes: nodes(receiver.url, false) });
    const warm = await load(server.url, '/in/orders', options.connections, WARMUP_MS, 202);
    if (workflow) await waitForCount(receiver.url, warm.requests, 120_000);
    await resetReceiver(receiver.url);
    const started = Date.now();
    const measured = await load(server.url, '/in/orders', options.connections, options.duration * 1000, 202);
    if (!workflow) return { ...measured, drainPerSecond: null };
    const { lastAt } = await waitForCount(receiver.url, measured.requests, 300_000);
    return { ...measured, drainPerSecond: measured.requests / ((lastAt - started) / 1000) };
  });
}

/** The floor, the same way: the source alone (MODE=plain) or with the three nodes' work. */
async function measureFloor(receiver: Receiver, workflow: boolean, options: WorkflowsOptions): Promise<Measured & { drainPerSecond: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-bench-workflow-floor-'));
  const env = { PATH: process.env.PATH, MODE: workflow ? 'workflow' : 'plain', FLOOR_DB: join(dir, 'floor.db'), FLOOR_TARGET: `${receiver.url}/erp` };
  const { child, match } = await startProcess(process.execPath, [join(ROOT, 'bench/lib/workflow-floor.mjs')], env, /listening on (http:\/\/[\d.:]+)/, ROOT);
  try {
    await resetReceiver(receiver.url);
    const url = match[1]!;
    const warm = await load(url, '/', options.connections, WARMUP_MS, 202);
    if (workflow) await waitForCount(receiver.url, warm.requests, 120_000);
    await resetReceiver(receiver.url);
    const started = Date.now();
    const measured = await load(url, '/', options.connections, options.duration * 1000, 202);
    if (!workflow) return { ...measured, drainPerSecond: null };
    const { lastAt } = await waitForCount(receiver.url, measured.requests, 300_000);
    return { ...measured, drainPerSecond: measured.requests / ((lastAt - started) / 1000) };
  } finally {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measureSync(receiver: Receiver, rate: number, options: WorkflowsOptions): Promise<Measured> {
  return withServer(receiver, async (server) => {
    await hookyardApi(server.url, 'POST', '/api/v1/sources', { name: 'orders' });
    await hookyardApi(server.url, 'POST', '/api/v1/workflows', { key: 'orders-sync', mode: 'sync', trigger: { type: 'webhook', source: 'orders' }, nodes: nodes(receiver.url, true) });
    await openLoop(server.url, '/in/orders', rate, WARMUP_MS);
    return openLoop(server.url, '/in/orders', rate, options.duration * 1000);
  });
}

export async function runWorkflows(options: WorkflowsOptions): Promise<Array<Record<string, string | number>>> {
  const receiver = await startReceiver();
  const plain: Array<Measured & { load: number }> = [];
  const flows: Array<Measured & { drainPerSecond: number | null; load: number }> = [];
  const syncs: Array<Measured & { load: number; rate: number }> = [];
  const floorPlain: Array<Measured & { load: number }> = [];
  const floorFlows: Array<Measured & { drainPerSecond: number | null; load: number }> = [];
  const rate = (m: Measured) => m.requests / m.seconds;
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  try {
    for (let round = 1; round <= options.rounds; round++) {
      let load = loadAverage();
      const a = await measureAsync(receiver, false, options);
      plain.push({ ...a, load });
      load = loadAverage();
      const b = await measureAsync(receiver, true, options);
      flows.push({ ...b, load });
      // Half of what the async workflow ingested in this round, and no more than its executions drained.
      const syncRate = Math.max(1, Math.round(Math.min(rate(b), b.drainPerSecond ?? Infinity) / 2));
      load = loadAverage();
      const c = await measureSync(receiver, syncRate, options);
      syncs.push({ ...c, load, rate: syncRate });
      load = loadAverage();
      floorPlain.push({ ...(await measureFloor(receiver, false, options)), load });
      load = loadAverage();
      const f = await measureFloor(receiver, true, options);
      floorFlows.push({ ...f, load });
      console.log(`round ${round}: floor alone ${Math.round(rate(floorPlain[floorPlain.length - 1]!))} req/s, floor with the nodes ${Math.round(rate(f))} req/s (drained at ${Math.round(f.drainPerSecond ?? 0)}/s)`);
      console.log(`round ${round}: source alone ${Math.round(rate(a))} req/s; with workflow ${Math.round(rate(b))} req/s (executions drained at ${Math.round(b.drainPerSecond ?? 0)}/s); sync at ${syncRate} req/s: p99 ${summarize(c.latencies).p99.toFixed(1)} ms`);
    }
  } finally {
    await stopProcess(receiver.child);
  }
  const base = median(plain.map(rate));
  const floorBase = median(floorPlain.map(rate));
  const row = (name: string, runs: Array<Measured & { load: number }>, extra: Record<string, string | number>, against = base) => {
    const { p50, p99 } = summarize(runs.flatMap((m) => m.latencies));
    const value = median(runs.map(rate));
    return {
      run: name,
      'req/s (median round)': Math.round(value),
      'rounds req/s': runs.map((m) => Math.round(rate(m))).join(' / '),
      'p50 ms': Math.round(p50 * 100) / 100,
      'p99 ms': Math.round(p99 * 100) / 100,
      'vs source alone': `${(value / against).toFixed(2)}×`,
      errors: runs.reduce((sum, m) => sum + m.errors, 0),
      'load avg': runs.map((m) => m.load).join(' / '),
      ...extra,
    };
  };
  return [
    row('source alone (async, 202)', plain, { 'executions/s': '—' }),
    row('+ workflow condition → create → http-request (async)', flows, { 'executions/s': flows.map((m) => Math.round(m.drainPerSecond ?? 0)).join(' / ') }),
    row('sync workflow (+ respond), open loop at ½ the async rate', syncs, { 'executions/s': syncs.map((m) => m.rate).join(' / ') }),
    row('floor: node:http + SQLite, request alone', floorPlain, { 'executions/s': '—' }, floorBase),
    row('floor: + condition, insert, POST (3 commits per run)', floorFlows, { 'executions/s': floorFlows.map((m) => Math.round(m.drainPerSecond ?? 0)).join(' / ') }, floorBase),
  ];
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: String(DEFAULTS.duration) },
      rounds: { type: 'string', default: String(DEFAULTS.rounds) },
      connections: { type: 'string', default: String(DEFAULTS.connections) },
    },
  });
  const options: WorkflowsOptions = { duration: Number(values.duration), rounds: Number(values.rounds), connections: Number(values.connections) };
  console.log(`Workflow benchmark, ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} CPUs, ${options.rounds} rounds × ${options.duration} s, ${options.connections} in flight`);
  const rows = await runWorkflows(options);
  printTable('Ingest with and without a three-node workflow (SQLite), and a sync answer at half the load', rows);
  console.log('\ngoals: async workflow ≥ 0.7× the source alone; sync p99 < 50 ms at half the async rate');
  console.log(`saved ${saveResult('workflows', { options, rows })}`);
}
