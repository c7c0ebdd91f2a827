// The ceiling of the inbound benchmark (bench/inbound.ts): a bare node:http server in its own process that reads each
// body and answers 200, nothing else (no verification, no dedup, no storage).
import { createServer } from 'node:http';

const bare = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('ok'));
});
bare.keepAliveTimeout = 60_000;
bare.listen(0, '127.0.0.1', () => console.log(`bare server listening on port ${bare.address().port}`));
