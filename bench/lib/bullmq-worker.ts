/**
 * The BullMQ sender's worker (bench/lib/bullmq-sender.ts), in a process of its own like Hookyard's: takes jobs
 * `{ body }` from the queue BENCH_QUEUE and POSTs each body to BENCH_TARGET with an undici Agent, BENCH_CONCURRENCY
 * at a time; a non-2xx answer or a network error fails the attempt, and BullMQ retries it with the job's backoff.
 * Started by the benchmark with `node --import tsx`; stops (finishing the jobs in hand) on SIGTERM.
 */
import { Worker } from 'bullmq';
import { Agent, request } from 'undici';
import { bullmqConnection, closeConnection } from './bullmq-sender.js';

const queueName = process.env.BENCH_QUEUE!;
const target = process.env.BENCH_TARGET!;
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);

const agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });
const connection = bullmqConnection();
const worker = new Worker<{ body: string }>(
  queueName,
  async (job) => {
    const res = await request(target, { method: 'POST', body: job.data.body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
    await res.body.dump();
    if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`HTTP ${res.statusCode}`);
  },
  { connection, concurrency },
);
worker.on('error', (err) => console.error(`bullmq worker: ${err.message}`));
await worker.waitUntilReady();
console.log('bullmq worker ready');

process.once('SIGTERM', async () => {
  await worker.close();
  await closeConnection(connection);
  await agent.close();
  process.exit(0);
});
