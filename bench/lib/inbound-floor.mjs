// The floor of the inbound benchmark (bench/inbound.ts): the least any receiver that keeps Hookyard's promise must do,
// written as plainly as possible in one file, with nothing of Hookyard in it. node:http reads the body, checks the
// GitHub HMAC (X-Hub-Signature-256) in constant time, and stores the request in SQLite (WAL, synchronous=FULL as
// Hookyard's default, or FLOOR_SYNCHRONOUS=normal) deduplicated by X-GitHub-Delivery; the requests that arrive in one turn of the event loop share
// one transaction, and each is answered 202 only after that transaction committed. No routing, no config, no logs,
// no metrics, no JSON parsing, no live feed. Hookyard's figure divided by this one is what its framework costs; this
// one divided by the bare server is what verifying and committing cost on the machine.
import Database from 'better-sqlite3';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.FLOOR_SECRET;
const db = new Database(process.env.FLOOR_DB);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${process.env.FLOOR_SYNCHRONOUS === 'normal' ? 'NORMAL' : 'FULL'}`);
db.exec(`CREATE TABLE IF NOT EXISTS requests (
  id TEXT PRIMARY KEY, dedup_key TEXT UNIQUE, headers TEXT NOT NULL, body BLOB NOT NULL, received_at INTEGER NOT NULL)`);
const insert = db.prepare('INSERT INTO requests (id, dedup_key, headers, body, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING');
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');

let batch = [];
function flush() {
  const items = batch;
  batch = [];
  begin.run();
  for (const item of items) insert.run(item.id, item.key, item.headers, item.body, item.at);
  commit.run();
  for (const item of items) item.res.writeHead(202, { 'content-type': 'application/json' }).end(`{"id":"${item.id}"}`);
}

function verified(signature, body) {
  if (typeof signature !== 'string' || !signature.startsWith('sha256=')) return false;
  const given = Buffer.from(signature.slice(7), 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (!verified(req.headers['x-hub-signature-256'], body)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"unauthorized"}');
      return;
    }
    if (batch.length === 0) setImmediate(flush);
    batch.push({ id: randomUUID(), key: req.headers['x-github-delivery'] ?? null, headers: JSON.stringify(req.headers), body, at: Date.now(), res });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`floor server listening on port ${server.address().port}`));
