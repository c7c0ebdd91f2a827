/**
 * The floor of the outbound benchmark (bench/outbound.ts): the least a sender that keeps Hookyard's promise must do,
 * written plainly in one file with nothing of Hookyard in it, in a process of its own like Hookyard's worker. Messages
 * and their deliveries sit in SQLite (WAL, synchronous=FULL as Hookyard's default); it claims due deliveries 100 at a
 * time (a lease, committed without fsync as Hookyard's claims are), POSTs each with undici at FLOOR_CONCURRENCY, and
 * writes every attempt and the delivery's new state in batches of up to 256 per 10 ms, each batch one durable
 * transaction. No signing, no HTTP API, no per-endpoint limits, no metrics, no logs, no retries beyond putting a failed
 * delivery back due in 5 s.
 *
 * It enqueues FLOOR_COUNT messages first (the benchmark passes warm-up + measured, like the Hookyard drain run), prints
 * "floor draining", and drains until all are delivered. Started by the benchmark with `node --import tsx`.
 *
 * With FLOOR_MODE=e2e it is the floor of the end-to-end run instead: it enqueues nothing, and takes the messages from
 * a node:http server (`POST /msg` with `{"payload": …}`, the JSON parsed and written back as text) that answers 202
 * only after the message and its delivery are committed, the requests of one turn of the event loop sharing one
 * durable transaction (as Hookyard's API does); the same process delivers them as above. It prints "floor listening on
 * <url>". No authentication, no validation beyond JSON, no idempotency, no endpoint lookup.
 */
import { createServer, type ServerResponse } from 'node:http';
import Database from 'better-sqlite3';
import { Agent, request } from 'undici';
import { benchPayload } from './receiver-client.js';

const target = process.env.FLOOR_TARGET!;
const concurrency = Number(process.env.FLOOR_CONCURRENCY ?? 50);
const total = Number(process.env.FLOOR_COUNT ?? 0);
const synchronous = process.env.FLOOR_SYNCHRONOUS === 'normal' ? 'NORMAL' : 'FULL';
const endToEnd = process.env.FLOOR_MODE === 'e2e';

const db = new Database(process.env.FLOOR_DB!);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${synchronous}`);
db.exec(`
  CREATE TABLE messages (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE deliveries (message_id INTEGER PRIMARY KEY REFERENCES messages (id), status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER, lease_until INTEGER);
  CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'sending');
  CREATE TABLE attempts (id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL, status_code INTEGER, error TEXT,
    duration_ms REAL NOT NULL, created_at INTEGER NOT NULL);`);

const addMessage = db.prepare('INSERT INTO messages (payload, created_at) VALUES (?, ?)');
const addDelivery = db.prepare("INSERT INTO deliveries (message_id, status, next_attempt_at) VALUES (?, 'pending', ?)");
const enqueue = db.transaction((payloads: Iterable<string>) => {
  for (const payload of payloads) {
    const id = addMessage.run(payload, Date.now()).lastInsertRowid;
    addDelivery.run(id, Date.now());
  }
});
if (!endToEnd) enqueue(Array.from({ length: total }, (_, i) => JSON.stringify(benchPayload(i))));

const due = db.prepare(`SELECT d.message_id, m.payload FROM deliveries d JOIN messages m ON m.id = d.message_id
  WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at LIMIT ?`);
const lease = db.prepare("UPDATE deliveries SET status = 'sending', next_attempt_at = ? WHERE message_id = ?");
const addAttempt = db.prepare('INSERT INTO attempts (message_id, status_code, error, duration_ms, created_at) VALUES (?, ?, ?, ?, ?)');
const settle = db.prepare('UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ? WHERE message_id = ?');
const relaxed = db.prepare('PRAGMA synchronous = NORMAL');
const strict = db.prepare(`PRAGMA synchronous = ${synchronous}`);

type Row = { message_id: number; payload: string };
type Outcome = { id: number; status: number | null; error: string | null; ms: number; at: number };

const claim = db.transaction((now: number, limit: number): Row[] => {
  const rows = due.all(now, limit) as Row[];
  for (const row of rows) lease.run(now + 30_000, row.message_id);
  return rows;
});
const record = db.transaction((outcomes: Outcome[]) => {
  for (const o of outcomes) {
    addAttempt.run(o.id, o.status, o.error, o.ms, o.at);
    const ok = o.status !== null && o.status >= 200 && o.status < 300;
    settle.run(ok ? 'succeeded' : 'pending', ok ? null : o.at + 5_000, o.id);
  }
});

const agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });
const ready: Row[] = [];
let inFlight = 0;
let delivered = 0;
let outcomes: Outcome[] = [];
let flushTimer: NodeJS.Timeout | null = null;
let idleTimer: NodeJS.Timeout | null = null;

function flush(): void {
  flushTimer = null;
  const batch = outcomes;
  outcomes = [];
  record(batch);
}

function finished(outcome: Outcome): void {
  outcomes.push(outcome);
  if (outcomes.length >= 256) {
    if (flushTimer) clearTimeout(flushTimer);
    flush();
  } else flushTimer ??= setTimeout(flush, 10);
  inFlight--;
  pump();
}

async function send(row: Row): Promise<void> {
  const started = performance.now();
  try {
    const res = await request(target, { method: 'POST', body: row.payload, headers: { 'content-type': 'application/json' }, dispatcher: agent });
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) delivered++;
    finished({ id: row.message_id, status: res.statusCode, error: null, ms: performance.now() - started, at: Date.now() });
  } catch (err) {
    finished({ id: row.message_id, status: null, error: (err as Error).message, ms: performance.now() - started, at: Date.now() });
  }
}

function pump(): void {
  // Claims in batches, as Hookyard does: one claim per freed slot would cost a transaction per attempt.
  if (ready.length === 0 && (concurrency - inFlight >= concurrency / 2 || inFlight === 0)) {
    relaxed.run(); // a claim needs no fsync: lost in a power cut, the delivery is simply still due
    try {
      ready.push(...claim(Date.now(), Math.min(100, 2 * concurrency - inFlight)));
    } finally {
      strict.run();
    }
  }
  while (inFlight < concurrency && ready.length > 0) {
    inFlight++;
    void send(ready.shift()!);
  }
  if (inFlight === 0 && ready.length === 0) {
    if (delivered >= total) {
      if (flushTimer) clearTimeout(flushTimer);
      if (outcomes.length > 0) flush();
      console.log('floor done');
    } else {
      idleTimer ??= setTimeout(() => {
        idleTimer = null;
        pump();
      }, 50);
    }
  }
}

if (endToEnd) {
  // The API: one durable transaction per turn of the event loop, every request answered after it.
  let accepted: Array<{ payload: string; res: ServerResponse }> = [];
  const commit = (): void => {
    const batch = accepted;
    accepted = [];
    enqueue(batch.map((item) => item.payload));
    for (const { res } of batch) res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
    pump();
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let payload: string;
      try {
        payload = JSON.stringify((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payload: unknown }).payload);
      } catch {
        res.writeHead(400).end();
        return;
      }
      if (accepted.length === 0) setImmediate(commit);
      accepted.push({ payload, res });
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    console.log(`floor listening on http://127.0.0.1:${address.port}`);
  });
} else {
  console.log('floor draining');
  pump();
}
// Runs until the benchmark stops it (it reads this process's CPU time after the last delivery), and exits cleanly on
// SIGTERM so that --cpu-prof writes its profile.
const alive = setInterval(() => undefined, 60_000);
process.once('SIGTERM', () => {
  clearInterval(alive);
  process.exit(0);
});
