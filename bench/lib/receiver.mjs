// A keep-alive webhook receiver in its own process for benchmarks. Each body carries `t0` (ms since epoch, set by the
// sender when the message was first handed over); the receiver records now - t0 as the end-to-end latency.
import { createServer } from 'node:http';

let latencies = [];
let count = 0;
let firstAt = 0;
let lastAt = 0;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count, firstAt, lastAt }));
    return;
  }
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count, firstAt, lastAt, latencies }));
    return;
  }
  if (req.method === 'POST' && req.url === '/reset') {
    latencies = [];
    count = 0;
    firstAt = lastAt = 0;
    res.writeHead(204).end();
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const now = Date.now();
    try {
      const t0 = JSON.parse(Buffer.concat(chunks).toString()).t0;
      if (typeof t0 === 'number') latencies.push(now - t0);
    } catch {
      // not a benchmark body
    }
    count++;
    if (firstAt === 0) firstAt = now;
    lastAt = now;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
