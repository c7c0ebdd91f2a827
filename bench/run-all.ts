/**
 * `npm run bench`: every benchmark in one run, one combined table, `bench/results/<UTC time>.json` and the chart
 * `bench/results/latest.svg` that bench/README.md shows. Not part of `npm test`. All load goes to 127.0.0.1 and every
 * part is bounded in count and time (a full run takes about 10 minutes on the 2-core VM, `--quick` about 2).
 *
 *   npm run build && npx tsx bench/run-all.ts [--quick] [--only inbound,outbound,scale]
 *     [--pg postgres://postgres@127.0.0.1:5432/test | --pg none] [--concurrency 50] [--markdown]
 *
 * - inbound: bare node:http vs Hookyard on SQLite and on PostgreSQL vs adnanh/webhook (bench/inbound.ts)
 * - outbound: raw undici loop vs Hookyard (end to end and draining a backlog, SQLite and PostgreSQL) vs BullMQ + an
 *   undici worker (both ways), same receiver, concurrency and message count (bench/outbound.ts)
 * - scale: the store's enqueue and claim + record throughput and the process's RSS with 0, 100k and 1M pending
 *   deliveries on SQLite and PostgreSQL (bench/backlog.ts, each in a fresh process), and the fan-out of one message
 *   to 100 endpoints through the API (bench/outbound.ts)
 */
import { existsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { backlogRows, runBacklogIsolated, type BacklogResult } from './backlog.js';
import { inboundGoals, runInbound } from './inbound.js';
import { startReceiver } from './lib/receiver-client.js';
import { markdownRows, printRows, renderChart, type BenchRow } from './lib/report.js';
import { ROOT, loadAverage, saveResult, stopProcess } from './lib/util.js';
import { outboundGoals, runOutbound } from './outbound.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: 'inbound,outbound,scale' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    concurrency: { type: 'string', default: '50' },
    // Also prints the combined table as Markdown (for bench/README.md).
    markdown: { type: 'boolean', default: false },
  },
});

const quick = values.quick;
const sections = new Set(values.only.split(','));
const dbs = values.pg === 'none' ? ['sqlite'] : ['sqlite', values.pg];
const concurrency = Number(values.concurrency);
const sizes = quick
  ? { inbound: { duration: 3, warmup: 1 }, outbound: { messages: 3_000, warmup: 1_000, fanoutRounds: 3, fanoutBurst: 20 }, backlog: { levels: [10_000, 100_000], messages: 2_000 } }
  : { inbound: { duration: 10, warmup: 3 }, outbound: { messages: 20_000, warmup: 5_000, fanoutRounds: 10, fanoutBurst: 100 }, backlog: { levels: [100_000, 1_000_000], messages: 20_000 } };

if (!existsSync(join(ROOT, 'dist/cli/main.js'))) {
  console.error('bench: dist/ is missing; run `npm run build` first (the benchmarks start bin/hookyard.js)');
  process.exit(1);
}

const started = new Date();
const loadAtStart = loadAverage();
console.log(`Hookyard benchmarks (${quick ? 'quick' : 'full'} run), ${started.toISOString()}, Node ${process.version}, ${cpus().length} CPUs, load average ${loadAtStart}`);
console.log(`Hookyard databases: ${dbs.map((db) => (db === 'sqlite' ? 'SQLite (fresh file per system)' : `PostgreSQL ${db} (fresh schema per system)`)).join(', ')}`);

const rows: BenchRow[] = [];
const details: Record<string, unknown> = {};
const notes: string[] = [];
const failures: string[] = [];

/** Runs one part; a failure is reported and the run goes on with the next part. */
async function part(name: string, run: () => Promise<void>): Promise<void> {
  console.log(`\n=== ${name} (load average ${loadAverage()}) ===`);
  try {
    await run();
  } catch (err) {
    const message = `${name} FAILED: ${(err as Error).stack ?? err}`;
    console.error(message);
    failures.push(message);
  }
}

if (sections.has('inbound')) {
  await part('inbound', async () => {
    const result = await runInbound({ ...sizes.inbound, dbs });
    rows.push(...result.rows);
    notes.push(...result.notes);
    details.inbound = { meta: result.meta, results: result.results };
  });
}

if (sections.has('outbound') || sections.has('scale')) {
  const receiver = await startReceiver();
  try {
    const outbound = { ...sizes.outbound, concurrency, dbs, receiverUrl: receiver.url };
    if (sections.has('outbound')) {
      await part('outbound', async () => {
        const result = await runOutbound({ ...outbound, systems: ['raw', 'floor', 'e2e', 'drain', 'bullmq'] });
        rows.push(...result.rows);
        notes.push(...result.notes);
        details.outbound = { options: { ...result.options, receiverUrl: undefined }, runs: result.runs };
      });
    }
    if (sections.has('scale')) {
      await part('fan-out', async () => {
        const result = await runOutbound({ ...outbound, systems: ['fanout'] });
        rows.push(...result.rows);
        details.fanout = { options: { ...result.options, receiverUrl: undefined }, runs: result.runs };
      });
    }
  } finally {
    await stopProcess(receiver.child);
  }
}

if (sections.has('scale')) {
  const backlogs: BacklogResult[] = [];
  for (const db of dbs) {
    await part(`scale: backlog on ${db === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`, async () => {
      const result = await runBacklogIsolated({ db, ...sizes.backlog });
      backlogs.push(result);
      rows.push(...backlogRows(result));
    });
  }
  details.backlog = backlogs;
}

const order = ['inbound', 'outbound', 'fan-out', 'scale'];
rows.sort((a, b) => order.indexOf(a.section) - order.indexOf(b.section));
const loadAtEnd = loadAverage();
const minutes = (Date.now() - started.getTime()) / 60_000;
printRows(`Hookyard benchmarks, ${quick ? 'quick' : 'full'} run, ${started.toISOString().slice(0, 16)}Z (ratios: this row's rate ÷ that system's; load: 1-min load average before the row)`, rows, true);
console.log('');
for (const line of [...notes, ...inboundGoals(rows), ...outboundGoals(rows)]) console.log(line);
console.log(`\n${cpus().length} CPUs; load average ${loadAtStart} at the start, ${loadAtEnd} at the end; ${minutes.toFixed(1)} minutes`);
if (values.markdown) console.log(`\n${markdownRows(rows)}`);

const file = saveResult('', {
  date: started.toISOString(),
  kind: quick ? 'quick' : 'full',
  node: process.version,
  cpus: cpus().length,
  loadAverage: { start: loadAtStart, end: loadAtEnd },
  minutes,
  sizes,
  concurrency,
  dbs,
  rows,
  notes,
  failures,
  details,
});
const subtitle = `${started.toISOString().slice(0, 10)} · ${quick ? 'quick' : 'full'} run · Node ${process.version} · ${cpus().length} CPUs · load average ${loadAtStart} → ${loadAtEnd} · darker bars: Hookyard`;
// The README's chart is of the last run of everything; a partial run (--only) gets a chart of its own beside its JSON.
const complete = ['inbound', 'outbound', 'scale'].every((section) => sections.has(section));
const chart = complete ? join(ROOT, 'bench/results/latest.svg') : file.replace(/\.json$/, '.svg');
writeFileSync(chart, renderChart(rows, subtitle, (row) => row.system.startsWith('Hookyard') || row.section === 'scale'));
console.log(`saved ${file} and ${chart}`);
if (failures.length > 0) {
  console.error(`\n${failures.length} part(s) failed:\n${failures.join('\n')}`);
  process.exitCode = 1;
}
