/**
 * Inbound receiving benchmark: requests/s and p50/p99 of Hookyard's receiving URL (verify the GitHub HMAC, dedup on
 * X-GitHub-Delivery, commit to the database, answer 202) with a ~7 KB GitHub push payload, side by side in the same
 * run with a bare node:http server that only answers 200 (the ceiling) and with adnanh/webhook (Debian package
 * `webhook`) checking the same HMAC with a payload-hmac-sha256 rule (it stores nothing and forks a command per hook),
 * and with a floor (bench/lib/inbound-floor.mjs): the same verify + dedup + commit in plain node:http and
 * better-sqlite3, nothing of Hookyard, so that the table shows what committing costs apart from what Hookyard costs.
 *
 *   npm run build && npx tsx bench/inbound.ts [--duration 10] [--warmup 3] [--connections 50] [--threads 2]
 *     [--db <HOOKYARD_DATABASE_URL> (repeatable: one Hookyard run each)] [--synchronous full|normal]
 *     [--systems bare,floor,hookyard,webhook] [--load auto|wrk|hey] [--cpu-prof <dir>]
 *
 * Load comes from wrk (apt-get install -y wrk) with bench/lib/inbound-wrk.lua, which gives every request its own
 * X-GitHub-Delivery so that Hookyard is measured on its accept path, never on its duplicate path. Without wrk, hey is
 * used (it cannot vary a header per request: see `heyLoad`); without either, or without `webhook`, the benchmark says
 * so and skips what it cannot run. All load goes to 127.0.0.1 and each run is bounded in time.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { benchDatabase } from './lib/database.js';
import { hookyardApi, startHookyard as startHookyardProcess } from './lib/hookyard.js';
import { goalLines, printRows, type BenchRow } from './lib/report.js';
import { ROOT, isMain, loadAverage, saveResult, startProcess, stopProcess, summarize } from './lib/util.js';

export interface InboundOptions {
  /** Seconds measured per system, after `warmup` seconds of the same load that are not. */
  duration: number;
  warmup: number;
  connections: number;
  threads: number;
  /**
   * One Hookyard run per entry, each passed as HOOKYARD_DATABASE_URL: `sqlite` (a fresh file in a temporary directory),
   * a SQLite path, or postgres://… (a fresh schema, dropped after).
   */
  dbs: string[];
  /** HOOKYARD_SQLITE_SYNCHRONOUS; unset = Hookyard's default (full: fsync on every commit). */
  synchronous?: string;
  /** Subset of bare, hookyard, webhook. */
  systems: string[];
  load: 'auto' | 'wrk' | 'hey';
  /** Writes a V8 CPU profile of each Hookyard process into this directory. */
  cpuProf?: string;
}

export const INBOUND_DEFAULTS: InboundOptions = {
  duration: 10,
  warmup: 3,
  connections: 50,
  threads: 2,
  dbs: ['sqlite'],
  systems: ['bare', 'floor', 'hookyard', 'webhook'],
  load: 'auto',
};

const SECRET = 'bench-github-secret-0123456789';
const WRK_SCRIPT = join(ROOT, 'bench/lib/inbound-wrk.lua');
const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------------------------------------------------
// The payload: the push example of @octokit/webhooks-examples whose compact JSON is closest to 7 KB, signed once (the
// signature covers only the body, so one body and one signature serve every request; the delivery id varies).

function githubPushPayload(): { body: Buffer; index: number } {
  const all = createRequire(import.meta.url)('@octokit/webhooks-examples') as Array<{ name: string; examples: unknown[] }>;
  const push = all.find((entry) => entry.name === 'push');
  if (!push) throw new Error('@octokit/webhooks-examples has no push examples');
  const bodies = push.examples.map((example) => Buffer.from(JSON.stringify(example)));
  const distance = (body: Buffer) => Math.abs(body.length - 7 * 1024);
  const index = bodies.reduce((best, body, i) => (distance(body) < distance(bodies[best]!) ? i : best), 0);
  return { body: bodies[index]!, index };
}

const payload = githubPushPayload();
const SIGNATURE = `sha256=${createHmac('sha256', SECRET).update(payload.body).digest('hex')}`;

// ---------------------------------------------------------------------------------------------------------------------
// Load generators

interface LoadResult {
  tool: string;
  requests: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
  /** Answers by HTTP status. */
  statuses: Record<string, number>;
  ok2xx: number;
  non2xx: number;
  /** Connect/read/write errors and timeouts (requests without an answer). */
  socketErrors: number;
  /** The run tag: every X-GitHub-Delivery of this run starts with it (wrk only). */
  tag: string | null;
}

const hasTool = (command: string, flag: string): boolean => spawnSync(command, [flag], { stdio: 'ignore', timeout: 5_000 }).error === undefined;

function countStatuses(statuses: Record<string, number>): { ok2xx: number; non2xx: number } {
  let ok2xx = 0;
  let non2xx = 0;
  for (const [status, count] of Object.entries(statuses)) {
    if (Number(status) >= 200 && Number(status) < 300) ok2xx += count;
    else non2xx += count;
  }
  return { ok2xx, non2xx };
}

type LoadGenerator = (url: string, seconds: number, bodyFile: string, o: InboundOptions) => Promise<LoadResult>;

/** wrk with bench/lib/inbound-wrk.lua: a unique, UUID-shaped X-GitHub-Delivery per request. */
async function wrkLoad(url: string, seconds: number, bodyFile: string, o: InboundOptions): Promise<LoadResult> {
  const tag = randomBytes(4).toString('hex');
  const args = ['-t', String(o.threads), '-c', String(o.connections), '-d', `${seconds}s`, '--timeout', '5s', '-s', WRK_SCRIPT, url, '--', bodyFile, SIGNATURE, tag];
  const { stdout } = await execFileAsync('wrk', args, { timeout: (seconds + 30) * 1000, maxBuffer: 16 << 20 });
  const line = /^INBOUND_WRK_RESULT (.*)$/m.exec(stdout);
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const result = JSON.parse(line[1]!) as {
    requests: number;
    durationUs: number;
    p50Us: number;
    p99Us: number;
    maxUs: number;
    errors: Record<'connect' | 'read' | 'write' | 'status' | 'timeout', number>;
    statuses: Record<string, number>;
  };
  const secondsMeasured = result.durationUs / 1e6;
  const { errors } = result;
  return {
    tool: 'wrk',
    requests: result.requests,
    seconds: secondsMeasured,
    rate: result.requests / secondsMeasured,
    p50: result.p50Us / 1000,
    p99: result.p99Us / 1000,
    max: result.maxUs / 1000,
    statuses: result.statuses,
    ...countStatuses(result.statuses),
    socketErrors: errors.connect + errors.read + errors.write + errors.timeout,
    tag,
  };
}

/**
 * hey sends the same headers with every request, so its requests carry NO X-GitHub-Delivery: otherwise all but the
 * first would be answered as duplicates. Hookyard then has no dedup key and skips the dedup check: with hey its figure
 * is "verified + persisted", not "verified + deduplicated + persisted".
 */
async function heyLoad(url: string, seconds: number, bodyFile: string, o: InboundOptions): Promise<LoadResult> {
  const args = ['-z', `${seconds}s`, '-c', String(o.connections), '-m', 'POST', '-T', 'application/json', '-D', bodyFile];
  args.push('-H', `X-Hub-Signature-256: ${SIGNATURE}`, '-H', 'X-GitHub-Event: push', '-o', 'csv', url);
  const { stdout } = await execFileAsync('hey', args, { timeout: (seconds + 30) * 1000, maxBuffer: 512 << 20 });
  // response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let end = 0;
  for (const row of stdout.trim().split('\n').slice(1)) {
    const cells = row.split(',');
    const responseTime = Number(cells[0]);
    latencies.push(responseTime * 1000);
    statuses[cells[6]!] = (statuses[cells[6]!] ?? 0) + 1;
    end = Math.max(end, Number(cells[7]) + responseTime);
  }
  const { ok2xx, non2xx } = countStatuses(statuses);
  return { tool: 'hey', requests: latencies.length, seconds: end, rate: latencies.length / end, ...summarize(latencies), statuses, ok2xx, non2xx, socketErrors: 0, tag: null };
}

// ---------------------------------------------------------------------------------------------------------------------
// The systems

interface System {
  label: string;
  url: string;
  child: ChildProcess;
  /** Answers a wrong signature with a non-2xx (all but the bare server). */
  verifies: boolean;
  /** Runs between the warm-up and the measured load. */
  beforeLoad?: () => Promise<void>;
  /** Runs after the measured load; may stop the process. */
  afterLoad?: (load: LoadResult) => Promise<Record<string, unknown>>;
}

async function startBare(): Promise<System> {
  const { child, match } = await startProcess(process.execPath, [join(ROOT, 'bench/lib/inbound-bare.mjs')], { PATH: process.env.PATH }, /listening on port (\d+)/);
  return { label: 'bare node:http, answers 200 (ceiling)', url: `http://127.0.0.1:${match[1]}/in/github`, child, verifies: false };
}

/** The floor (bench/lib/inbound-floor.mjs): verify + dedup + commit in plain node:http and better-sqlite3. */
async function startFloor(dir: string, synchronous: string | undefined): Promise<System> {
  const env = { PATH: process.env.PATH, FLOOR_SECRET: SECRET, FLOOR_DB: join(mkdtempSync(join(dir, 'floor-')), 'floor.db'), FLOOR_SYNCHRONOUS: synchronous ?? 'full' };
  const { child, match } = await startProcess(process.execPath, [join(ROOT, 'bench/lib/inbound-floor.mjs')], env, /listening on port (\d+)/);
  return { label: `floor: node:http + HMAC + dedup + SQLite commit, no framework${synchronous ? `, synchronous=${synchronous}` : ''}`, url: `http://127.0.0.1:${match[1]}/in/github`, child, verifies: true };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** adnanh/webhook prints nothing unless -verbose (which logs every request), so readiness is its port accepting. */
async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`webhook exited with ${child.exitCode}:\n${output()}`);
    const open = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`webhook did not open port ${port}:\n${output()}`);
    await new Promise((wait) => setTimeout(wait, 50));
  }
}

async function startWebhook(dir: string): Promise<System> {
  const version = /version\s+(\S+)/.exec(spawnSync('webhook', ['-version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? '?';
  const hooks = join(dir, 'inbound-hooks.json');
  writeFileSync(hooks, JSON.stringify([
    {
      id: 'github',
      'execute-command': '/bin/true',
      'trigger-rule': { match: { type: 'payload-hmac-sha256', secret: SECRET, parameter: { source: 'header', name: 'X-Hub-Signature-256' } } },
      // Its default answer to an unmet rule is 200; a 401 keeps a wrong signature visible in the status counts.
      'trigger-rule-mismatch-http-response-code': 401,
    },
  ], null, 2));
  const port = await freePort();
  const child = spawn('webhook', ['-hooks', hooks, '-port', String(port), '-ip', '127.0.0.1'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-10_000));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  try {
    await waitForPort(port, child, () => output);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return { label: `adnanh/webhook ${version} (HMAC rule, forks /bin/true)`, url: `http://127.0.0.1:${port}/hooks/github`, child, verifies: true };
}

/** The database Hookyard uses, and the SQLite file behind it when there is one (to count the stored rows). */
function hookyardDatabase(dir: string, given: string): { url: string; sqliteFile: string | null; fresh: boolean } {
  // (PostgreSQL URLs are handled by startHookyard with a fresh schema of their own.)
  if (given === 'sqlite') {
    const file = join(mkdtempSync(join(dir, 'hookyard-')), 'hookyard.db');
    return { url: file, sqliteFile: file, fresh: true };
  }
  if (/^postgres(ql)?:\/\//.test(given)) return { url: given, sqliteFile: null, fresh: true };
  const path = given.replace(/^sqlite:/, '').replace(/^\/\/(?=\/)/, '');
  if (path === ':memory:') return { url: given, sqliteFile: null, fresh: true };
  // Hookyard runs in the temporary directory: a relative path is taken from where the benchmark is started.
  return { url: resolve(path), sqliteFile: resolve(path), fresh: false };
}

async function inboundCounters(base: string): Promise<Record<string, number>> {
  const text = (await hookyardApi(base, 'GET', '/metrics')) as string;
  const counters: Record<string, number> = { accepted: 0, rejected: 0, duplicate: 0 };
  for (const [, status, value] of text.matchAll(/^hookyard_inbound_requests_total\{status="(\w+)"\} (\d+)/gm)) counters[status!] = Number(value);
  return counters;
}

const dbLabel = (db: string) => (/^postgres(ql)?:\/\//.test(db) ? 'PostgreSQL' : 'SQLite');

/** `deduplicated`: the load carries a unique X-GitHub-Delivery per request (wrk), so every request is deduplicated. */
async function startHookyard(dir: string, db: string, deduplicated: boolean, o: InboundOptions): Promise<System> {
  const database = hookyardDatabase(dir, db);
  // PostgreSQL: a fresh schema for this run (dropped after), and the secret key every PostgreSQL node needs.
  const postgres = database.url.startsWith('postgres') ? await benchDatabase(database.url, dir) : null;
  const { child, url: base } = await startHookyardProcess({
    dir,
    cpuProf: o.cpuProf,
    env: {
      HOOKYARD_DATABASE_URL: database.url,
      ...(postgres?.env ?? {}),
      ...(o.synchronous === undefined ? {} : { HOOKYARD_SQLITE_SYNCHRONOUS: o.synchronous }),
    },
  });
  // A fresh database gets the source of the issue, `github`; a given one a source of its own, so that nothing is touched.
  const name = database.fresh ? 'github' : `github-bench-${Date.now()}`;
  let before: Record<string, number> = {};
  try {
    await hookyardApi(base, 'POST', '/api/v1/sources', { name, verification: { type: 'github', secret: SECRET } });
  } catch (err) {
    await stopProcess(child);
    await postgres?.drop();
    throw err;
  }
  const system: System = {
    label: `Hookyard on ${dbLabel(db)} (verify + ${deduplicated ? 'dedup' : 'no dedup key'} + commit${o.synchronous ? `, synchronous=${o.synchronous}` : ''})`,
    url: `${base}/in/${name}`,
    child,
    verifies: true,
    beforeLoad: async () => {
      before = await inboundCounters(base);
    },
    afterLoad: async (load) => {
      // Requests still in flight when the load generator stopped are committed (and counted) a moment later.
      await new Promise((wait) => setTimeout(wait, 500));
      const after = await inboundCounters(base);
      const counted = Object.fromEntries(Object.entries(after).map(([status, n]) => [status, n - (before[status] ?? 0)]));
      const newest = (await hookyardApi(base, 'GET', `/api/v1/sources/${name}/requests?limit=1`)).data[0];
      const rejected = (await hookyardApi(base, 'GET', `/api/v1/sources/${name}/requests?limit=250&status=rejected`)).data as Array<{ headers: Record<string, string> }>;
      const check = {
        source: name,
        countedByMetrics: counted,
        newest: newest && {
          status: newest.status,
          responseStatus: newest.responseStatus,
          verified: newest.verified,
          delivery: newest.headers['x-github-delivery'] ?? null,
          bodyBytes: Buffer.byteLength(newest.body, newest.bodyEncoding === 'base64' ? 'base64' : 'utf8'),
        },
        // The pre-check's wrong signature is the one expected rejection; any other is a failed verification under load.
        rejectedUnderLoad: rejected.filter((r) => !(r.headers['x-github-delivery'] ?? '').startsWith('precheck-')).length,
        storedAcceptedInDatabase: null as number | null,
      };
      await stopProcess(child);
      // Rows this run's deliveries left in the database (dedup_key is the X-GitHub-Delivery of an accepted request).
      const acceptedOfRun = "SELECT count(*) AS n FROM requests WHERE status = 'accepted' AND dedup_key LIKE $tag";
      if (postgres !== null && load.tag !== null) {
        const client = new pg.Client({ connectionString: postgres.env.HOOKYARD_DATABASE_URL });
        await client.connect();
        try {
          const { rows } = await client.query(acceptedOfRun.replace('$tag', '$1'), [`${load.tag}-%`]);
          check.storedAcceptedInDatabase = Number(rows[0].n);
        } finally {
          await client.end();
        }
      }
      await postgres?.drop();
      if (database.sqliteFile !== null && load.tag !== null) {
        const db = new Database(database.sqliteFile, { readonly: true });
        try {
          const row = db.prepare(acceptedOfRun.replace('$tag', '?')).get(`${load.tag}-%`) as { n: number };
          check.storedAcceptedInDatabase = row.n;
        } finally {
          db.close();
        }
      }
      return check;
    },
  };
  return system;
}

// ---------------------------------------------------------------------------------------------------------------------

/** One correctly signed request must be answered 2xx, and (where the system verifies) a wrongly signed one not. */
async function precheck(system: System): Promise<void> {
  const send = (signature: string) =>
    fetch(system.url, {
      method: 'POST',
      body: payload.body,
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': `precheck-${randomBytes(6).toString('hex')}`, 'x-hub-signature-256': signature },
    }).then(async (res) => {
      await res.arrayBuffer();
      return res.status;
    });
  const good = await send(SIGNATURE);
  if (good < 200 || good > 299) throw new Error(`${system.label}: a correctly signed request was answered ${good}`);
  if (system.verifies) {
    const bad = await send(`sha256=${'0'.repeat(64)}`);
    if (bad >= 200 && bad <= 299) throw new Error(`${system.label}: a wrongly signed request was answered ${bad}`);
  }
}

export interface InboundResult {
  key: string;
  label: string;
  loadAverageBefore: number;
  load: LoadResult;
  check?: Record<string, unknown>;
  /** Hookyard only: every measured request was verified, stored and accepted. */
  valid?: boolean;
}

/** Picks the load generator (wrk, else hey) and says why when it falls back or finds none. */
function loadGenerator(o: InboundOptions, notes: string[]): LoadGenerator | null {
  if ((o.load === 'auto' || o.load === 'wrk') && hasTool('wrk', '-v')) return wrkLoad;
  if ((o.load === 'auto' || o.load === 'hey') && hasTool('hey', '-h')) {
    notes.push(`NOTE: hey is used (${o.load === 'hey' ? '--load hey' : 'wrk is not installed: apt-get install -y wrk'}). hey cannot vary a header per request:`);
    notes.push('      its requests carry no X-GitHub-Delivery, so Hookyard does not deduplicate them (verified + persisted only).');
    return heyLoad;
  }
  notes.push(`SKIPPED: no load generator (${o.load === 'auto' ? 'wrk or hey' : o.load}) is installed: apt-get install -y wrk`);
  return null;
}

/** Compares what the load generator saw with what Hookyard stored, prints it, and returns whether the figure is valid. */
function checkHookyard(result: InboundResult, load: LoadGenerator, connections: number): boolean {
  const check = result.check as { countedByMetrics: Record<string, number>; storedAcceptedInDatabase: number | null; rejectedUnderLoad: number; newest: unknown };
  const stored = check.storedAcceptedInDatabase ?? check.countedByMetrics.accepted!;
  // Up to one request per connection can be committed after the load generator stopped waiting for its answer.
  const valid = result.load.non2xx === 0 && check.rejectedUnderLoad === 0 && check.countedByMetrics.duplicate === 0
    && stored >= result.load.ok2xx && stored - result.load.ok2xx <= connections;
  console.log(`  ${result.label} check: load generator saw ${result.load.ok2xx} 2xx answers; Hookyard counted ${JSON.stringify(check.countedByMetrics)} during the run`);
  const noCount = load === heyLoad ? 'n/a (hey sends no delivery id to count by)' : 'n/a (not a database file or schema of its own)';
  console.log(`    accepted rows of this run in the database: ${check.storedAcceptedInDatabase ?? noCount}; newest request: ${JSON.stringify(check.newest)}`);
  console.log(valid ? '    OK: every measured request was verified, stored and accepted' : '    WARNING: the Hookyard figure does not measure accepted requests (see the counts above)');
  return valid;
}

/**
 * Runs the chosen systems one after the other (bare, then Hookyard once per database, then adnanh/webhook), each in
 * its own process with the same payload, connections and durations; returns the rows of the combined table and the data.
 */
export async function runInbound(options: Partial<InboundOptions> = {}): Promise<{ rows: BenchRow[]; results: InboundResult[]; notes: string[]; meta: Record<string, unknown> }> {
  const o: InboundOptions = { ...INBOUND_DEFAULTS, ...options };
  const notes: string[] = [];
  const systems = new Set(o.systems);
  const load = loadGenerator(o, notes);
  if (!load) {
    for (const note of notes) console.log(note);
    return { rows: [], results: [], notes, meta: {} };
  }
  if (systems.has('webhook') && !hasTool('webhook', '-version')) {
    notes.push('SKIPPED adnanh/webhook: the `webhook` command is not installed (apt-get install -y webhook)');
    systems.delete('webhook');
  }
  for (const note of notes) console.log(note);

  const dir = mkdtempSync(join(tmpdir(), 'hookyard-inbound-'));
  const bodyFile = join(dir, 'push.json');
  writeFileSync(bodyFile, payload.body);
  const tool = load === wrkLoad ? 'wrk' : 'hey';
  console.log(`inbound benchmark: GitHub push payload (example #${payload.index} of @octokit/webhooks-examples) of ${payload.body.length} bytes,`);
  console.log(`${load === wrkLoad ? `wrk, ${o.threads} threads` : 'hey'}, ${o.connections} connections, ${o.warmup} s warm-up then ${o.duration} s measured per system`);
  console.log(`Hookyard databases: ${o.dbs.map((db) => (db === 'sqlite' ? 'a fresh SQLite file in a temporary directory' : db)).join('; ')}${o.synchronous ? `, synchronous=${o.synchronous}` : ''}`);
  // The load generator and the server share the machine's cores: other work on it moves the figures.
  const busy = loadAverage() > 0.5 ? ' (not idle: the figures will be low and noisy)' : '';
  console.log(`${cpus().length} CPUs, load average ${loadAverage().toFixed(2)} before the run${busy}`);

  const starters: Array<[string, () => Promise<System>]> = [
    ['bare', startBare],
    ['floor', () => startFloor(dir, o.synchronous)],
    ...o.dbs.map((db): [string, () => Promise<System>] => [`hookyard:${dbLabel(db)}`, () => startHookyard(dir, db, load === wrkLoad, o)]),
    ['webhook', () => startWebhook(dir)],
  ];
  const results: InboundResult[] = [];
  try {
    for (const [key, start] of starters) {
      if (!systems.has(key.split(':')[0]!)) continue;
      const loadAverageBefore = loadAverage();
      const system = await start();
      try {
        await precheck(system);
        await load(system.url, o.warmup, bodyFile, o);
        await system.beforeLoad?.();
        const measured = await load(system.url, o.duration, bodyFile, o);
        const check = await system.afterLoad?.(measured);
        const result: InboundResult = { key, label: system.label, loadAverageBefore, load: measured, check };
        console.log(`  ${system.label}: ${Math.round(measured.rate)} requests/s, ${measured.ok2xx} 2xx, ${measured.non2xx} non-2xx, ${measured.socketErrors} socket errors`);
        if (key.startsWith('hookyard')) result.valid = checkHookyard(result, load, o.connections);
        results.push(result);
      } finally {
        await stopProcess(system.child);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const bare = results.find((r) => r.key === 'bare');
  const webhook = results.find((r) => r.key === 'webhook');
  const floor = results.find((r) => r.key === 'floor');
  const rows: BenchRow[] = results.map((r) => {
    const ratios: Record<string, number> = {};
    if (bare && r !== bare) ratios.bare = r.load.rate / bare.load.rate;
    if (webhook && r.key.startsWith('hookyard')) ratios.adnanh = r.load.rate / webhook.load.rate;
    if (floor && r.key.startsWith('hookyard')) ratios.floor = r.load.rate / floor.load.rate;
    const failed = r.load.non2xx + r.load.socketErrors;
    const notes = [failed > 0 ? `${failed} non-2xx/errors` : '', r.valid === false ? 'NOT all accepted (see check)' : '', r.key === 'bare' ? 'answers 200, nothing else' : '', r.key === 'floor' ? 'what committing costs, without Hookyard' : ''];
    return {
      section: 'inbound',
      system: r.label,
      unit: 'req/s',
      rate: r.load.rate,
      p50: r.load.p50,
      p99: r.load.p99,
      ratios,
      loadAverage: r.loadAverageBefore,
      note: notes.filter(Boolean).join('; ') || (r.valid ? `all ${r.load.ok2xx.toLocaleString('en-US')} stored` : ''),
    };
  });
  const meta = {
    node: process.version,
    cpus: cpus().length,
    payloadBytes: payload.body.length,
    tool,
    durationS: o.duration,
    warmupS: o.warmup,
    connections: o.connections,
    threads: o.threads,
    dbs: o.dbs,
    synchronous: o.synchronous ?? 'default',
  };
  return { rows, results, notes, meta };
}

/** The issue's goals: Hookyard ≥ 0.5× the bare server and ≥ 1.5× adnanh/webhook (the floor is for reading, no goal). */
export const inboundGoals = (rows: BenchRow[]) => goalLines(rows, 'inbound', (name) => ({ bare: 0.5, adnanh: 1.5 })[name]);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: String(INBOUND_DEFAULTS.duration) },
      warmup: { type: 'string', default: String(INBOUND_DEFAULTS.warmup) },
      connections: { type: 'string', default: String(INBOUND_DEFAULTS.connections) },
      threads: { type: 'string', default: String(INBOUND_DEFAULTS.threads) },
      // Passed to Hookyard as HOOKYARD_DATABASE_URL, one Hookyard run each; default: a fresh SQLite file.
      db: { type: 'string', multiple: true, default: INBOUND_DEFAULTS.dbs },
      synchronous: { type: 'string' },
      systems: { type: 'string', default: INBOUND_DEFAULTS.systems.join(',') },
      load: { type: 'string', default: INBOUND_DEFAULTS.load },
      'cpu-prof': { type: 'string' },
    },
  });
  const options: InboundOptions = {
    duration: Number(values.duration),
    warmup: Number(values.warmup),
    connections: Number(values.connections),
    threads: Number(values.threads),
    dbs: values.db,
    synchronous: values.synchronous,
    systems: values.systems.split(','),
    load: values.load === 'wrk' || values.load === 'hey' ? values.load : 'auto',
    cpuProf: values['cpu-prof'],
  };
  const { rows, results, meta } = await runInbound(options);
  if (rows.length === 0) return;
  printRows(`Inbound receiving, ${payload.body.length}-byte GitHub push, ${options.connections} connections, ${options.duration} s (${meta.tool})`, rows);
  console.log('');
  for (const line of inboundGoals(rows)) console.log(line);
  const file = saveResult('inbound', { date: new Date().toISOString(), ...meta, results });
  console.log(`saved ${file}`);
}

if (isMain(import.meta.url)) await main();
