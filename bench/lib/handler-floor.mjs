// The handler floor: plain node:http + one SQLite commit per request + the trivial handler called in one of three
// ways, nothing of Hookyard. MODE=inline calls it here; MODE=thread posts it to one of two worker threads and waits
// for the answer; MODE=python writes one JSON line to one of two python3 processes and reads one back. The ratios
// thread/inline and python/inline are what crossing a thread or a process costs on this machine, apart from Hookyard.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';

const mode = process.env.MODE ?? 'inline';
const db = new Database(join(process.env.DIR ?? '.', 'floor.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY, body BLOB NOT NULL, output TEXT)');
const insert = db.prepare('INSERT INTO requests (body) VALUES (?)');
const record = db.prepare('UPDATE requests SET output = ? WHERE id = ?');

const handler = (body) => ({ status: 200, body: { n: body.n + 1 } });

function pool(create, send) {
  let next = 0;
  let call = 0;
  const waiting = new Map();
  const members = [create((id, value) => { waiting.get(id)(value); waiting.delete(id); }), create((id, value) => { waiting.get(id)(value); waiting.delete(id); })];
  return (body) => new Promise((resolve) => {
    const id = ++call;
    waiting.set(id, resolve);
    send(members[next++ % members.length], id, body);
  });
}

const PY = 'import sys, json\nfor line in sys.stdin:\n    m = json.loads(line)\n    b = m["body"]\n    sys.stdout.write(json.dumps({"id": m["id"], "value": {"status": 200, "body": {"n": b["n"] + 1}}}) + "\\n")\n    sys.stdout.flush()\n';
const run = mode === 'inline'
  ? async (body) => handler(body)
  : mode === 'thread'
    ? pool((done) => {
        const worker = new Worker('const { parentPort } = require("node:worker_threads"); parentPort.on("message", ({ id, body }) => parentPort.postMessage({ id, value: { status: 200, body: { n: body.n + 1 } } }));', { eval: true });
        worker.on('message', ({ id, value }) => done(id, value));
        return worker;
      }, (worker, id, body) => worker.postMessage({ id, body }))
    : pool((done) => {
        const child = spawn(process.env.HOOKYARD_PYTHON ?? 'python3', ['-u', '-c', PY], { stdio: ['pipe', 'pipe', 'inherit'] });
        createInterface({ input: child.stdout }).on('line', (line) => { const m = JSON.parse(line); done(m.id, m.value); });
        return child;
      }, (child, id, body) => child.stdin.write(JSON.stringify({ id, body }) + '\n'));

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const raw = Buffer.concat(chunks);
    const id = insert.run(raw).lastInsertRowid;
    const out = await run(JSON.parse(raw.toString('utf8')));
    record.run(JSON.stringify(out), id);
    res.writeHead(out.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(out.body));
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
