/**
 * Handler benchmark: requests/s through a trivial handler, where the handler's answer is the HTTP response (a
 * sync-mode source), so every request runs it once: receive → commit → handler → answer. Three ways to run the same
 * trivial handler, in one run, interleaved (A B C A B C …) because the machine is noisy:
 *
 * - in-thread: `HOOKYARD_HANDLER_THREADS=0`, the handler called on the server's event loop (the way before issue 15);
 * - worker threads: the default pool (`HOOKYARD_HANDLER_THREADS`), the handler in a worker thread, results over a port;
 * - Python: the same handler as `def handler(ctx)`, in the pool of python3 processes, over a pipe.
 *
 *   npm run build && npx tsx bench/handlers.ts [--duration 5] [--rounds 3] [--connections 20] [--threads 2]
 *
 * Beside them, the floor (bench/lib/handler-floor.mjs): plain node:http + one SQLite commit + the same handler called
 * in-thread, across a worker thread, or across a pipe to python3, nothing of Hookyard: its ratios are what crossing a
 * thread or a process costs on this machine by itself.
 *
 * Load comes from this process (undici, `connections` requests in flight), always to 127.0.0.1, bounded in time.
 * Goals (issue 15): worker threads ≥ 0.8× in-thread, Python ≥ 0.5× in-thread.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { closedLoop, type Measured } from './lib/closed-loop.js';
import { hookyardApi, startHookyard } from './lib/hookyard.js';
import { ROOT, isMain, loadAverage, printTable, saveResult, startProcess, stopProcess, summarize } from './lib/util.js';

export interface HandlersOptions {
  duration: number;
  rounds: number;
  connections: number;
  threads: number;
}

const DEFAULTS: HandlersOptions = { duration: 5, rounds: 3, connections: 20, threads: 2 };
const WARMUP_MS = 1_000;

const TS_HANDLER = `export default (ctx: { request: { body: { n: number } } }) => ({ status: 200, body: { n: ctx.request.body.n + 1 } });\n`;
const PY_HANDLER = `def handler(ctx):\n    return {"status": 200, "body": {"n": ctx.request.body["n"] + 1}}\n`;

interface Mode {
  name: string;
  env: Record<string, string>;
  source: string;
  /** Runs bench/lib/handler-floor.mjs with MODE=floor instead of Hookyard. */
  floor?: 'inline' | 'thread' | 'python';
}

/** Requests with `connections` in flight for `ms`, each checked to be the handler's answer. */
const load = (url: string, path: string, connections: number, ms: number): Promise<Measured> =>
  closedLoop(url, path, connections, ms, (n) => `{"n":${n}}`, (status, text, n) => status === 200 && JSON.parse(text).n === n + 1);

async function measureFloor(floor: NonNullable<Mode['floor']>, options: HandlersOptions): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-bench-floor-'));
  const env = { PATH: process.env.PATH, MODE: floor, DIR: dir, HOOKYARD_PYTHON: process.env.HOOKYARD_PYTHON };
  const { child, match } = await startProcess(process.execPath, [join(ROOT, 'bench/lib/handler-floor.mjs')], env, /listening on (http:\/\/[\d.:]+)/, ROOT);
  try {
    await load(match[1]!, '/', options.connections, WARMUP_MS);
    return await load(match[1]!, '/', options.connections, options.duration * 1000);
  } finally {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(mode: Mode, options: HandlersOptions): Promise<Measured> {
  if (mode.floor) return measureFloor(mode.floor, options);
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-bench-handlers-'));
  mkdirSync(join(dir, 'handlers'));
  writeFileSync(join(dir, 'handlers', 'trivial_ts.ts'), TS_HANDLER);
  writeFileSync(join(dir, 'handlers', 'trivial_py.py'), PY_HANDLER);
  const server = await startHookyard({
    dir,
    env: { HOOKYARD_DATABASE_URL: join(dir, 'hookyard.db'), HOOKYARD_HANDLERS_DIR: join(dir, 'handlers'), HOOKYARD_PYTHON: process.env.HOOKYARD_PYTHON, ...mode.env },
  });
  try {
    await hookyardApi(server.url, 'POST', '/api/v1/sources', { name: mode.source, response: { mode: 'sync' } });
    await load(server.url, `/webhooks/${mode.source}`, options.connections, WARMUP_MS);
    return await load(server.url, `/webhooks/${mode.source}`, options.connections, options.duration * 1000);
  } finally {
    await stopProcess(server.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runHandlers(options: HandlersOptions): Promise<Array<Record<string, string | number>>> {
  const modes: Mode[] = [
    { name: 'in-thread (HOOKYARD_HANDLER_THREADS=0)', env: { HOOKYARD_HANDLER_THREADS: '0' }, source: 'trivial_ts' },
    { name: `worker threads (HOOKYARD_HANDLER_THREADS=${options.threads})`, env: { HOOKYARD_HANDLER_THREADS: String(options.threads) }, source: 'trivial_ts' },
    { name: 'Python (HOOKYARD_PYTHON_WORKERS=2)', env: { HOOKYARD_PYTHON_WORKERS: '2' }, source: 'trivial_py' },
    { name: 'floor: node:http + SQLite + handler in-thread', env: {}, source: '', floor: 'inline' },
    { name: 'floor: … + 2 worker threads (postMessage)', env: {}, source: '', floor: 'thread' },
    { name: 'floor: … + 2 python3 processes (JSON lines)', env: {}, source: '', floor: 'python' },
  ];
  const runs = new Map<string, Array<Measured & { load: number }>>(modes.map((mode) => [mode.name, []]));
  for (let round = 1; round <= options.rounds; round++) {
    for (const mode of modes) {
      const loadBefore = loadAverage();
      const measured = await measure(mode, options);
      runs.get(mode.name)!.push({ ...measured, load: loadBefore });
      console.log(`round ${round}: ${mode.name}: ${Math.round(measured.requests / measured.seconds)} req/s, ${measured.errors} errors`);
    }
  }
  const rateOf = (name: string): number => {
    // The median round: one round disturbed by the machine moves it less than a mean would.
    const rates = runs.get(name)!.map((m) => m.requests / m.seconds).sort((a, b) => a - b);
    return rates[Math.floor(rates.length / 2)]!;
  };
  const base = rateOf(modes[0]!.name);
  const floorBase = rateOf(modes[3]!.name);
  const rows = modes.map((mode) => {
    const measured = runs.get(mode.name)!;
    const { p50, p99 } = summarize(measured.flatMap((m) => m.latencies));
    const rate = rateOf(mode.name);
    return {
      'handler runs': mode.name,
      'req/s (median round)': Math.round(rate),
      'rounds req/s': measured.map((m) => Math.round(m.requests / m.seconds)).join(' / '),
      'p50 ms': Math.round(p50 * 100) / 100,
      'p99 ms': Math.round(p99 * 100) / 100,
      'vs in-thread': `${(rate / (mode.floor ? floorBase : base)).toFixed(2)}×`,
      errors: measured.reduce((sum, m) => sum + m.errors, 0),
      'load avg': measured.map((m) => m.load).join(' / '),
    };
  });
  return rows;
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: String(DEFAULTS.duration) },
      rounds: { type: 'string', default: String(DEFAULTS.rounds) },
      connections: { type: 'string', default: String(DEFAULTS.connections) },
      threads: { type: 'string', default: String(DEFAULTS.threads) },
    },
  });
  const options: HandlersOptions = { duration: Number(values.duration), rounds: Number(values.rounds), connections: Number(values.connections), threads: Number(values.threads) };
  console.log(`Handler benchmark, ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} CPUs, ${options.rounds} rounds × ${options.duration} s, ${options.connections} in flight`);
  const rows = await runHandlers(options);
  printTable('Requests/s through a trivial sync-mode handler (receive, commit, run, answer)', rows);
  console.log('\ngoals: worker threads ≥ 0.8× in-thread; Python ≥ 0.5× in-thread');
  console.log(`saved ${saveResult('handlers', { options, rows })}`);
}
