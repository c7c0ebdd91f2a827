// The floor of the workflow benchmark (bench/workflows.ts): the least a receiver that runs condition → create →
// http-request durably must do, in one plain file with nothing of Hookyard. node:http stores each request in SQLite
// (WAL, synchronous=FULL as Hookyard's default; the requests of one event-loop turn share one commit) with its run
// queued in the same transaction, and answers 202. Beside it, FLOOR_CONCURRENCY runs at a time: take a queued run,
// evaluate the condition in JS, insert the document, mark the node done, POST to the receiver with undici, mark the run
// done (three commits per run, grouped per turn like the requests). MODE=plain stores requests only (the source alone).
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Pool } from 'undici';

const workflow = process.env.MODE !== 'plain';
const target = new URL(process.env.FLOOR_TARGET ?? 'http://127.0.0.1:9/erp');
const concurrency = Number(process.env.FLOOR_CONCURRENCY ?? 16);
const db = new Database(process.env.FLOOR_DB);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`CREATE TABLE IF NOT EXISTS requests (id TEXT PRIMARY KEY, headers TEXT NOT NULL, body BLOB NOT NULL, received_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS runs (request_id TEXT PRIMARY KEY, node TEXT, state TEXT NOT NULL, output TEXT);
  CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, data TEXT NOT NULL)`);
const insertRequest = db.prepare('INSERT INTO requests (id, headers, body, received_at) VALUES (?, ?, ?, ?)');
const insertRun = db.prepare("INSERT INTO runs (request_id, node, state) VALUES (?, 'big', 'queued')");
const claim = db.prepare("UPDATE runs SET state = 'running' WHERE request_id IN (SELECT request_id FROM runs WHERE state = 'queued' LIMIT ?) RETURNING request_id");
const bodyOf = db.prepare('SELECT body FROM requests WHERE id = ?');
const insertDoc = db.prepare('INSERT INTO documents (id, data) VALUES (?, ?)');
const step = db.prepare('UPDATE runs SET node = ?, state = ?, output = ? WHERE request_id = ?');
const http = new Pool(target.origin, { connections: concurrency });

// Every write of one event-loop turn in one transaction, as Hookyard's group commit does for requests.
let pending = [];
function write(fn) {
  return new Promise((resolve) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push({ fn, resolve });
  });
}
function flush() {
  const items = pending;
  pending = [];
  db.transaction(() => { for (const item of items) item.result = item.fn(); })();
  for (const item of items) item.resolve(item.result);
}

let running = 0;
async function pump() {
  while (running < concurrency) {
    const claimed = await write(() => claim.all(concurrency - running));
    if (claimed.length === 0) return;
    for (const { request_id: id } of claimed) {
      running++;
      run(id).finally(() => {
        running--;
        void pump();
      });
    }
  }
}
async function run(id) {
  const data = JSON.parse(bodyOf.get(id).body.toString());
  if (!(data.amount > 100)) return write(() => step.run(null, 'done', null, id));
  const doc = { n: data.n, amount: data.amount };
  const docId = randomUUID();
  await write(() => { insertDoc.run(docId, JSON.stringify(doc)); step.run('call', 'running', JSON.stringify({ ...doc, _id: docId }), id); });
  const res = await http.request({ path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: data.n, order: docId }) });
  const text = await res.body.text();
  await write(() => step.run(null, 'done', JSON.stringify({ status: res.statusCode, body: text }), id));
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const id = randomUUID();
    const body = Buffer.concat(chunks);
    void write(() => {
      insertRequest.run(id, JSON.stringify(req.headers), body, Date.now());
      if (workflow) insertRun.run(id);
    }).then(() => {
      res.writeHead(202, { 'content-type': 'application/json' }).end(`{"id":"${id}"}`);
      if (workflow) void pump();
    });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`floor server listening on http://127.0.0.1:${server.address().port}`));
