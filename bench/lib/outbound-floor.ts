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
 *
 * FLOOR_MODE=e2e-full is the end-to-end floor with the work Hookyard's contract requires of every message and nothing
 * else, still plainly written: the send route `POST /api/v1/apps/<app>/messages` with `Authorization: Bearer` (SHA-256
 * of the token, compared in constant time), the body's eventType and payload checked, the app's endpoints looked up
 * (in memory, as Hookyard caches them), the message answered in full; Hookyard's three tables with the indexes its
 * API's reads need (messages by app and by eventId, deliveries by endpoint, attempts by message and by endpoint), ids
 * ordered by time; every delivery signed with the Standard Webhooks headers, and every attempt stored with the URL
 * and the first 4 KB of the response. No framework, no metrics, no logs, no per-endpoint limits, no hand-over.
 */
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Database from 'better-sqlite3';
import { Agent, request } from 'undici';
import { benchPayload } from './receiver-client.js';

const target = process.env.FLOOR_TARGET!;
const concurrency = Number(process.env.FLOOR_CONCURRENCY ?? 50);
const total = Number(process.env.FLOOR_COUNT ?? 0);
const synchronous = process.env.FLOOR_SYNCHRONOUS === 'normal' ? 'NORMAL' : 'FULL';
const full = process.env.FLOOR_MODE === 'e2e-full';
const endToEnd = process.env.FLOOR_MODE === 'e2e' || full;

const db = new Database(process.env.FLOOR_DB!);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${synchronous}`);
/** The store's side of the floor: what enqueue, claim and record write, in the mode's tables. */
interface Queue {
  enqueue(messages: Iterable<Accepted>): void;
  claim(now: number, limit: number): Row[];
  record(outcomes: Outcome[]): void;
}
type Accepted = { id: string; appId: string; eventType: string; eventId: string | null; payload: string; endpointIds: string[]; at: number };
type Row = { message_id: number | string; endpoint_id: string; payload: string };
type Outcome = { row: Row; status: number | null; response: string; error: string | null; ms: number; at: number };

const relaxed = db.prepare('PRAGMA synchronous = NORMAL');
const strict = db.prepare(`PRAGMA synchronous = ${synchronous}`);

/** The drain and e2e floors: integer keys, one delivery per message, nothing the API reads. */
function plainQueue(): Queue {
  db.exec(`
    CREATE TABLE messages (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE deliveries (message_id INTEGER PRIMARY KEY REFERENCES messages (id), status TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER, lease_until INTEGER);
    CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'sending');
    CREATE TABLE attempts (id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL, status_code INTEGER, error TEXT,
      duration_ms REAL NOT NULL, created_at INTEGER NOT NULL);`);
  const addMessage = db.prepare('INSERT INTO messages (payload, created_at) VALUES (?, ?)');
  const addDelivery = db.prepare("INSERT INTO deliveries (message_id, status, next_attempt_at) VALUES (?, 'pending', ?)");
  const due = db.prepare(`SELECT d.message_id, m.payload FROM deliveries d JOIN messages m ON m.id = d.message_id
    WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at LIMIT ?`);
  const lease = db.prepare("UPDATE deliveries SET status = 'sending', next_attempt_at = ? WHERE message_id = ?");
  const addAttempt = db.prepare('INSERT INTO attempts (message_id, status_code, error, duration_ms, created_at) VALUES (?, ?, ?, ?, ?)');
  const settle = db.prepare('UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ? WHERE message_id = ?');
  return {
    enqueue: db.transaction((messages: Iterable<Accepted>) => {
      for (const message of messages) {
        const id = addMessage.run(message.payload, message.at).lastInsertRowid;
        addDelivery.run(id, message.at);
      }
    }),
    claim: db.transaction((now: number, limit: number): Row[] => {
      const rows = due.all(now, limit) as Row[];
      for (const row of rows) lease.run(now + 30_000, row.message_id);
      return rows;
    }),
    record: db.transaction((outcomes: Outcome[]) => {
      for (const o of outcomes) {
        addAttempt.run(o.row.message_id, o.status, o.error, o.ms, o.at);
        settle.run(succeeded(o) ? 'succeeded' : 'pending', succeeded(o) ? null : o.at + 5_000, o.row.message_id);
      }
    }),
  };
}

/** The e2e-full floor: Hookyard's tables, text ids, and the indexes its API's reads and deletes need. */
function fullQueue(): Queue {
  db.exec(`
    CREATE TABLE messages (id TEXT PRIMARY KEY, app_id TEXT NOT NULL, event_type TEXT NOT NULL, event_id TEXT,
      payload TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE UNIQUE INDEX messages_app_event_id ON messages (app_id, event_id) WHERE event_id IS NOT NULL;
    CREATE INDEX messages_app ON messages (app_id, id);
    CREATE TABLE deliveries (message_id TEXT NOT NULL, endpoint_id TEXT NOT NULL, status TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER, updated_at INTEGER NOT NULL,
      PRIMARY KEY (message_id, endpoint_id)) WITHOUT ROWID;
    CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'sending');
    CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id);
    CREATE TABLE attempts (id TEXT PRIMARY KEY, message_id TEXT NOT NULL, endpoint_id TEXT NOT NULL, url TEXT NOT NULL,
      status_code INTEGER, response TEXT NOT NULL, error TEXT, duration_ms REAL NOT NULL, created_at INTEGER NOT NULL);
    CREATE INDEX attempts_message ON attempts (message_id, id);
    CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);`);
  const addMessage = db.prepare('INSERT INTO messages (id, app_id, event_type, event_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  const addDelivery = db.prepare("INSERT INTO deliveries (message_id, endpoint_id, status, next_attempt_at, updated_at) VALUES (?, ?, 'pending', ?, ?)");
  const due = db.prepare(`SELECT d.message_id, d.endpoint_id, m.payload FROM deliveries d JOIN messages m ON m.id = d.message_id
    WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at LIMIT ?`);
  const lease = db.prepare("UPDATE deliveries SET status = 'sending', next_attempt_at = ?, updated_at = ? WHERE message_id = ? AND endpoint_id = ?");
  const addAttempt = db.prepare(`INSERT INTO attempts (id, message_id, endpoint_id, url, status_code, response, error, duration_ms, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const settle = db.prepare(`UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, updated_at = ?
    WHERE message_id = ? AND endpoint_id = ?`);
  return {
    enqueue: db.transaction((messages: Iterable<Accepted>) => {
      for (const m of messages) {
        addMessage.run(m.id, m.appId, m.eventType, m.eventId, m.payload, m.at);
        for (const endpointId of m.endpointIds) addDelivery.run(m.id, endpointId, m.at, m.at);
      }
    }),
    claim: db.transaction((now: number, limit: number): Row[] => {
      const rows = due.all(now, limit) as Row[];
      for (const row of rows) lease.run(now + 30_000, now, row.message_id, row.endpoint_id);
      return rows;
    }),
    record: db.transaction((outcomes: Outcome[]) => {
      for (const o of outcomes) {
        addAttempt.run(nextId('atm'), o.row.message_id, o.row.endpoint_id, target, o.status, o.response, o.error, o.ms, o.at);
        settle.run(succeeded(o) ? 'succeeded' : 'pending', succeeded(o) ? null : o.at + 5_000, o.at, o.row.message_id, o.row.endpoint_id);
      }
    }),
  };
}

const succeeded = (o: Outcome): boolean => o.status !== null && o.status >= 200 && o.status < 300;

// Ids ordered by time, as Hookyard's are (ULIDs), so that inserts append to each index.
let sequence = 0;
const idBase = Date.now() * 1_000;
const nextId = (prefix: string): string => `${prefix}_${(idBase + sequence++).toString(36)}`;

/** The one app and endpoint of the e2e-full floor, and its signing key (a `whsec_` secret's bytes). */
const APP_ID = 'app_floor';
const ENDPOINTS = [{ id: 'ep_floor', eventTypes: null as string[] | null }];
const SIGNING_KEY = Buffer.alloc(24, 7);
const TOKEN_HASH = hash('sha256', process.env.FLOOR_TOKEN ?? '', 'buffer');

const queue = full ? fullQueue() : plainQueue();
if (!endToEnd) {
  queue.enqueue(Array.from({ length: total }, (_, i) => ({ id: '', appId: '', eventType: '', eventId: null, payload: JSON.stringify(benchPayload(i)), endpointIds: [], at: Date.now() })));
}

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
  queue.record(batch);
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

/** The Standard Webhooks headers of one delivery (e2e-full). */
function signed(row: Row): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const id = String(row.message_id);
  const mac = createHmac('sha256', SIGNING_KEY).update(`${id}.${timestamp}.`).update(row.payload).digest('base64');
  return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${mac}` };
}

async function send(row: Row): Promise<void> {
  const started = performance.now();
  try {
    const headers = full ? signed(row) : { 'content-type': 'application/json' };
    const res = await request(target, { method: 'POST', body: row.payload, headers, dispatcher: agent });
    const response = full ? (await res.body.text()).slice(0, 4096) : '';
    if (!full) await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) delivered++;
    finished({ row, status: res.statusCode, response, error: null, ms: performance.now() - started, at: Date.now() });
  } catch (err) {
    finished({ row, status: null, response: '', error: (err as Error).message, ms: performance.now() - started, at: Date.now() });
  }
}

function pump(): void {
  // Claims in batches, as Hookyard does: one claim per freed slot would cost a transaction per attempt.
  if (ready.length === 0 && (concurrency - inFlight >= concurrency / 2 || inFlight === 0)) {
    relaxed.run(); // a claim needs no fsync: lost in a power cut, the delivery is simply still due
    try {
      ready.push(...queue.claim(Date.now(), Math.min(100, 2 * concurrency - inFlight)));
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

const EVENT_TYPE = /^[A-Za-z0-9_.:-]{1,256}$/;

/** The e2e-full send route's checks: the token, the app, the body; the message to commit, or the status to refuse with. */
function acceptFull(req: IncomingMessage, body: { eventType?: unknown; eventId?: unknown; payload?: unknown }, at: number): Accepted | number {
  const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (token === undefined || !timingSafeEqual(hash('sha256', token, 'buffer'), TOKEN_HASH)) return 401;
  const parts = (req.url ?? '').split('/'); // '', api, v1, apps, <app>, messages
  if (req.method !== 'POST' || parts.length !== 6 || parts[1] !== 'api' || parts[2] !== 'v1' || parts[3] !== 'apps' || parts[5] !== 'messages') return 404;
  if (parts[4] !== APP_ID) return 404;
  if (body === null || typeof body !== 'object' || typeof body.eventType !== 'string' || !EVENT_TYPE.test(body.eventType)) return 422;
  if (body.payload === undefined || (body.eventId !== undefined && (typeof body.eventId !== 'string' || body.eventId.length > 256))) return 422;
  const eventType = body.eventType;
  const endpointIds = ENDPOINTS.filter((e) => e.eventTypes === null || e.eventTypes.includes(eventType)).map((e) => e.id);
  return { id: nextId('msg'), appId: APP_ID, eventType, eventId: (body.eventId as string | undefined) ?? null, payload: JSON.stringify(body.payload), endpointIds, at };
}

if (endToEnd) {
  // The API: one durable transaction per turn of the event loop, every request answered after it.
  let accepted: Array<{ message: Accepted; answer: string; res: ServerResponse }> = [];
  const commit = (): void => {
    const batch = accepted;
    accepted = [];
    queue.enqueue(batch.map((item) => item.message));
    for (const { answer, res } of batch) res.writeHead(202, { 'content-type': 'application/json' }).end(answer);
    pump();
  };
  const refuse = (res: ServerResponse, status: number, code: string): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code, message: code }));
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: { eventType?: unknown; eventId?: unknown; payload?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        return refuse(res, 400, 'invalid_json');
      }
      const at = Date.now();
      if (!full) {
        const message = { id: '', appId: '', eventType: '', eventId: null, payload: JSON.stringify(body.payload), endpointIds: [], at };
        if (accepted.length === 0) setImmediate(commit);
        accepted.push({ message, answer: '{}', res });
        return;
      }
      const message = acceptFull(req, body, at);
      if (typeof message === 'number') return refuse(res, message, 'refused');
      const answer = JSON.stringify({ id: message.id, eventType: message.eventType, eventId: message.eventId, payload: body.payload, channels: null, timestamp: new Date(at).toISOString() });
      if (accepted.length === 0) setImmediate(commit);
      accepted.push({ message, answer, res });
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
