/**
 * Inbound receiving benchmark: requests/s and p50/p99 of Hookyard's receiving URL (verify the GitHub HMAC, dedup on
 * X-GitHub-Delivery, commit to the database, answer 202) with a ~7 KB GitHub push payload, side by side in the same
 * run with a bare node:http server that only answers 200 (the ceiling) and with adnanh/webhook (Debian package
 * `webhook`) checking the same HMAC with a payload-hmac-sha256 rule (it stores nothing and forks a command per hook).
 *
 *   npm run build && npx tsx bench/inbound.ts [--duration 10] [--warmup 3] [--connections 50] [--threads 2]
 *     [--db <HOOKYARD_DATABASE_URL>] [--synchronous full|normal] [--systems bare,hookyard,webhook] [--load auto|wrk|hey]
 *     [--cpu-prof <dir>]
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
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import Database from 'better-sqlite3';
import { benchDatabase } from './lib/database.js';
import { printTable, saveResult, startProcess, stopProcess, summarize } from './lib/util.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    threads: { type: 'string', default: '2' },
    // Passed to Hookyard as HOOKYARD_DATABASE_URL; default: a fresh SQLite file in a temporary directory.
    db: { type: 'string' },
    // HOOKYARD_SQLITE_SYNCHRONOUS; unset = Hookyard's default (full: fsync on every commit).
    synchronous: { type: 'string' },
    systems: { type: 'string', default: 'bare,hookyard,webhook' },
    load: { type: 'string', default: 'auto' },
    // Writes a V8 CPU profile of the Hookyard process into this directory.
    'cpu-prof': { type: 'string' },
  },
});
const DURATION_S = Number(values.duration);
const WARMUP_S = Number(values.warmup);
const CONNECTIONS = Number(values.connections);
const THREADS = Number(values.threads);
const SYSTEMS = new Set(values.systems.split(','));
const TOKEN = 'bench-admin-token-0123456789';
const SECRET = 'bench-github-secret-0123456789';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
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

/** wrk with bench/lib/inbound-wrk.lua: a unique, UUID-shaped X-GitHub-Delivery per request. */
async function wrkLoad(url: string, seconds: number, bodyFile: string): Promise<LoadResult> {
  const tag = randomBytes(4).toString('hex');
  const args = ['-t', String(THREADS), '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--timeout', '5s', '-s', WRK_SCRIPT, url, '--', bodyFile, SIGNATURE, tag];
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
async function heyLoad(url: string, seconds: number, bodyFile: string): Promise<LoadResult> {
  const args = ['-z', `${seconds}s`, '-c', String(CONNECTIONS), '-m', 'POST', '-T', 'application/json', '-D', bodyFile];
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
function hookyardDatabase(dir: string): { url: string; sqliteFile: string | null } {
  // (PostgreSQL URLs are handled by startHookyard with a fresh schema of their own.)
  const given = values.db;
  if (given === undefined) {
    const file = join(dir, 'hookyard.db');
    return { url: file, sqliteFile: file };
  }
  if (/^postgres(ql)?:\/\//.test(given)) return { url: given, sqliteFile: null };
  const path = given.replace(/^sqlite:/, '').replace(/^\/\/(?=\/)/, '');
  if (path === ':memory:') return { url: given, sqliteFile: null };
  // Hookyard runs in the temporary directory: a relative path is taken from where the benchmark is started.
  return { url: resolve(path), sqliteFile: resolve(path) };
}

async function hookyardApi(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
}

async function inboundCounters(base: string): Promise<Record<string, number>> {
  const text = (await hookyardApi(base, 'GET', '/metrics')) as string;
  const counters: Record<string, number> = { accepted: 0, rejected: 0, duplicate: 0 };
  for (const [, status, value] of text.matchAll(/^hookyard_inbound_requests_total\{status="(\w+)"\} (\d+)/gm)) counters[status!] = Number(value);
  return counters;
}

/** `deduplicated`: the load carries a unique X-GitHub-Delivery per request (wrk), so every request is deduplicated. */
async function startHookyard(dir: string, deduplicated: boolean): Promise<System> {
  const database = hookyardDatabase(dir);
  // PostgreSQL: a fresh schema for this run (dropped after), and the secret key every PostgreSQL node needs.
  const postgres = database.url.startsWith('postgres') ? await benchDatabase(database.url, dir) : null;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOOKYARD_PORT: '0',
    HOOKYARD_HOST: '127.0.0.1',
    HOOKYARD_DATABASE_URL: database.url,
    ...(postgres?.env ?? {}),
    HOOKYARD_ADMIN_TOKEN: TOKEN,
    HOOKYARD_LOG_LEVEL: 'warn',
    ...(values.synchronous === undefined ? {} : { HOOKYARD_SQLITE_SYNCHRONOUS: values.synchronous }),
  };
  const profile = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values['cpu-prof'])}`] : [];
  const { child, match } = await startProcess(process.execPath, [...profile, join(ROOT, 'bin/hookyard.js'), 'serve'], env, /listening on (http:\/\/[\d.:]+)/, dir);
  const base = match[1]!;
  // A fresh database gets the source of the issue, `github`; a given one a source of its own, so that nothing is touched.
  const name = values.db === undefined || postgres !== null ? 'github' : `github-bench-${Date.now()}`;
  let before: Record<string, number> = {};
  try {
    await hookyardApi(base, 'POST', '/api/v1/sources', { name, verification: { type: 'github', secret: SECRET } });
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  const system: System = {
    label: `Hookyard (verify + ${deduplicated ? 'dedup' : 'no dedup key'} + commit${values.synchronous ? `, synchronous=${values.synchronous}` : ''})`,
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
      await postgres?.drop();
      if (database.sqliteFile !== null && load.tag !== null) {
        // Rows this run's deliveries left in the database (dedup_key is the X-GitHub-Delivery of an accepted request).
        const db = new Database(database.sqliteFile, { readonly: true });
        try {
          const row = db.prepare("SELECT count(*) AS n FROM requests WHERE status = 'accepted' AND dedup_key LIKE ?").get(`${load.tag}-%`) as { n: number };
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

async function main(): Promise<void> {
  let load: typeof wrkLoad;
  if ((values.load === 'auto' || values.load === 'wrk') && hasTool('wrk', '-v')) load = wrkLoad;
  else if ((values.load === 'auto' || values.load === 'hey') && hasTool('hey', '-h')) {
    load = heyLoad;
    console.log(`NOTE: hey is used (${values.load === 'hey' ? '--load hey' : 'wrk is not installed: apt-get install -y wrk'}). hey cannot vary a header per request:`);
    console.log('      its requests carry no X-GitHub-Delivery, so Hookyard does not deduplicate them (verified + persisted only).');
  } else {
    console.log(`SKIPPED: no load generator (${values.load === 'auto' ? 'wrk or hey' : values.load}) is installed: apt-get install -y wrk`);
    return;
  }
  if (SYSTEMS.has('webhook') && !hasTool('webhook', '-version')) {
    console.log('SKIPPING adnanh/webhook: the `webhook` command is not installed (apt-get install -y webhook)');
    SYSTEMS.delete('webhook');
  }

  const dir = mkdtempSync(join(tmpdir(), 'hookyard-inbound-'));
  const bodyFile = join(dir, 'push.json');
  writeFileSync(bodyFile, payload.body);
  console.log(`inbound benchmark: GitHub push payload (example #${payload.index} of @octokit/webhooks-examples) of ${payload.body.length} bytes,`);
  console.log(`${load === wrkLoad ? `wrk, ${THREADS} threads` : 'hey'}, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up then ${DURATION_S} s measured per system`);
  console.log(`Hookyard database: ${values.db ?? 'a fresh SQLite file in a temporary directory'}${values.synchronous ? `, synchronous=${values.synchronous}` : ''}`);
  // The load generator and the server share the machine's cores: other work on it moves the figures.
  const busy = loadavg()[0]! > 0.5 ? ' (not idle: the figures will be low and noisy)' : '';
  console.log(`${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(2)} before the run${busy}`);

  const starters: Array<[string, () => Promise<System>]> = [
    ['bare', startBare],
    ['hookyard', () => startHookyard(dir, load === wrkLoad)],
    ['webhook', () => startWebhook(dir)],
  ];
  const results: Array<{ key: string; label: string; loadAverageBefore: number; load: LoadResult; check?: Record<string, unknown>; valid?: boolean }> = [];
  try {
    for (const [key, start] of starters) {
      if (!SYSTEMS.has(key)) continue;
      const loadAverageBefore = loadavg()[0]!;
      const system = await start();
      try {
        await precheck(system);
        await load(system.url, WARMUP_S, bodyFile);
        await system.beforeLoad?.();
        const measured = await load(system.url, DURATION_S, bodyFile);
        const check = await system.afterLoad?.(measured);
        results.push({ key, label: system.label, loadAverageBefore, load: measured, check });
        console.log(`  ${system.label}: ${Math.round(measured.rate)} requests/s, ${measured.ok2xx} 2xx, ${measured.non2xx} non-2xx, ${measured.socketErrors} socket errors`);
      } finally {
        await stopProcess(system.child);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const bare = results.find((r) => r.key === 'bare');
  const rows = results.map(({ label, load: l }) => ({
    system: label,
    'requests/s': Math.round(l.rate),
    'p50 ms': l.p50,
    'p99 ms': l.p99,
    'non-2xx': l.non2xx + l.socketErrors,
    'vs bare': bare ? l.rate / bare.load.rate : '-',
  }));
  printTable(`Inbound receiving, ${payload.body.length}-byte GitHub push, ${CONNECTIONS} connections, ${DURATION_S} s (${load === wrkLoad ? 'wrk' : 'hey'})`, rows);

  const hookyard = results.find((r) => r.key === 'hookyard');
  const webhook = results.find((r) => r.key === 'webhook');
  if (hookyard) {
    const check = hookyard.check as { countedByMetrics: Record<string, number>; storedAcceptedInDatabase: number | null; rejectedUnderLoad: number; newest: unknown };
    const stored = check.storedAcceptedInDatabase ?? check.countedByMetrics.accepted!;
    // Up to one request per connection can be committed after the load generator stopped waiting for its answer.
    const valid = hookyard.load.non2xx === 0 && check.rejectedUnderLoad === 0 && check.countedByMetrics.duplicate === 0
      && stored >= hookyard.load.ok2xx && stored - hookyard.load.ok2xx <= CONNECTIONS;
    console.log(`\nHookyard check: load generator saw ${hookyard.load.ok2xx} 2xx answers; Hookyard counted ${JSON.stringify(check.countedByMetrics)} during the run`);
    const noCount = load === heyLoad ? 'n/a (hey sends no delivery id to count by)' : 'n/a (not a SQLite file)';
    console.log(`  accepted rows of this run in the database: ${check.storedAcceptedInDatabase ?? noCount}; newest request: ${JSON.stringify(check.newest)}`);
    console.log(valid ? '  OK: every measured request was verified, stored and accepted' : '  WARNING: the Hookyard figure does not measure accepted requests (see the counts above)');
    hookyard.valid = valid;
  }
  if (hookyard && bare) console.log(`\nHookyard / bare    = ${(hookyard.load.rate / bare.load.rate).toFixed(2)}  (goal ≥ 0.5: ${hookyard.load.rate >= 0.5 * bare.load.rate ? 'met' : 'missed'})`);
  if (hookyard && webhook) console.log(`Hookyard / adnanh  = ${(hookyard.load.rate / webhook.load.rate).toFixed(2)}  (goal ≥ 1.5: ${hookyard.load.rate >= 1.5 * webhook.load.rate ? 'met' : 'missed'})`);

  const file = saveResult('inbound', {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    payloadBytes: payload.body.length,
    durationS: DURATION_S,
    warmupS: WARMUP_S,
    connections: CONNECTIONS,
    threads: THREADS,
    db: values.db ?? 'sqlite (fresh temporary file)',
    synchronous: values.synchronous ?? 'default',
    results,
  });
  console.log(`saved ${file}`);
}

await main();
