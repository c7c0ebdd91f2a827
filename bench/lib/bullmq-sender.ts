/**
 * The "typical hand-rolled alternative" of the outbound benchmark: a BullMQ queue on the local Redis, fed by the
 * benchmark process (`queue.add('webhook', { body })`, one call per message, like an application's request handler),
 * and drained by a worker in a process of its own (bench/lib/bullmq-worker.ts) that POSTs each body with an undici
 * Agent and retries with BullMQ's backoff (`attempts: 8, backoff: { type: 'exponential', delay: 1000 }`). No signing,
 * no per-attempt records, completed jobs kept (BullMQ's default). Every run uses a fresh queue name and obliterates the
 * queue afterwards.
 *
 * The Redis client is ioredis, as in a typical application, when it can be loaded; BullMQ 6 no longer depends on it and
 * the project does not either, so without it BullMQ drives bench/lib/resp-client.ts through its own Bun adapter.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Queue, createBunRedisClient, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { benchPayload, receiverStats, resetReceiver, waitForCount } from './receiver-client.js';
import { RespClient } from './resp-client.js';
import { ROOT, runPool, startProcess, stopProcess, summarize } from './util.js';

export const REDIS_HOST = process.env.BENCH_REDIS_HOST ?? '127.0.0.1';
export const REDIS_PORT = Number(process.env.BENCH_REDIS_PORT ?? 6379);
export const JOB_OPTIONS: JobsOptions = { attempts: 8, backoff: { type: 'exponential', delay: 1000 } };

function ioredisAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('ioredis');
    return true;
  } catch {
    return false;
  }
}

/** Which Redis client BullMQ uses here. */
export const bullmqClient = ioredisAvailable() ? 'ioredis' : 'bench RESP client (no ioredis installed)';

/** A connection for one Queue or Worker: ioredis options, or an adapter over a RespClient (closed by `closeConnection`). */
export function bullmqConnection(): ConnectionOptions {
  return ioredisAvailable() ? { host: REDIS_HOST, port: REDIS_PORT } : createBunRedisClient(new RespClient(REDIS_HOST, REDIS_PORT));
}

/** BullMQ leaves a client it was given open; options it was given become clients it closes itself. */
export async function closeConnection(connection: ConnectionOptions): Promise<void> {
  if ('quit' in connection && typeof connection.quit === 'function') await connection.quit();
}

/** Why the BullMQ sender cannot run here, or null when Redis answers PING. */
export async function bullmqUnavailable(): Promise<string | null> {
  const client = new RespClient(REDIS_HOST, REDIS_PORT);
  try {
    const pong = await Promise.race([
      client.connect().then(() => client.send('PING', [])),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer in 2 s')), 2_000)),
    ]);
    return pong === 'PONG' ? null : `Redis answered PING with ${String(pong)}`;
  } catch (err) {
    return `no Redis on ${REDIS_HOST}:${REDIS_PORT} (${(err as Error).message})`;
  } finally {
    client.close();
  }
}

export interface SenderOptions {
  messages: number;
  warmup: number;
  concurrency: number;
}

async function withQueue<T>(receiverUrl: string, concurrency: number, run: (queue: Queue, startWorker: () => Promise<() => Promise<void>>) => Promise<T>): Promise<T> {
  const name = `hookyard-bench-${randomBytes(4).toString('hex')}`;
  const connection = bullmqConnection();
  const queue = new Queue(name, { connection, defaultJobOptions: JOB_OPTIONS });
  const workers: Array<() => Promise<void>> = [];
  const startWorker = async () => {
    const env = {
      PATH: process.env.PATH,
      BENCH_QUEUE: name,
      BENCH_TARGET: `${receiverUrl}/hook`,
      BENCH_CONCURRENCY: String(concurrency),
      BENCH_REDIS_HOST: REDIS_HOST,
      BENCH_REDIS_PORT: String(REDIS_PORT),
    };
    const { child } = await startProcess(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/lib/bullmq-worker.ts')], env, /bullmq worker ready/, ROOT);
    const stop = () => stopProcess(child);
    workers.push(stop);
    return stop;
  };
  try {
    await queue.waitUntilReady();
    return await run(queue, startWorker);
  } finally {
    for (const stop of workers) await stop();
    await queue.obliterate({ force: true });
    await queue.close();
    await closeConnection(connection);
  }
}

const enqueue = (queue: Queue, count: number, concurrency: number) =>
  runPool(count, concurrency, async (i) => {
    await queue.add('webhook', { body: JSON.stringify(benchPayload(i)) });
  });

/** Jobs added while the worker runs: deliveries/s and enqueue → receipt latency, after a warm-up. */
export async function bullmqEndToEnd(receiverUrl: string, { messages, warmup, concurrency }: SenderOptions) {
  return withQueue(receiverUrl, concurrency, async (queue, startWorker) => {
    await resetReceiver(receiverUrl);
    await startWorker();
    await enqueue(queue, warmup, concurrency);
    await waitForCount(receiverUrl, warmup, 300_000);
    await resetReceiver(receiverUrl);
    const started = Date.now();
    await enqueue(queue, messages, concurrency);
    const acceptMs = Date.now() - started;
    await waitForCount(receiverUrl, messages, 300_000);
    const stats = await receiverStats(receiverUrl);
    const elapsed = stats.lastAt - started;
    return { rate: (messages * 1000) / elapsed, ...summarize(stats.latencies), elapsed, acceptRate: (messages * 1000) / acceptMs };
  });
}

/** A backlog of warm-up + measured jobs added first, then drained by a fresh worker; rate over the measured ones. */
export async function bullmqDrain(receiverUrl: string, { messages, warmup, concurrency }: SenderOptions) {
  return withQueue(receiverUrl, concurrency, async (queue, startWorker) => {
    await resetReceiver(receiverUrl);
    const total = warmup + messages;
    for (let from = 0; from < total; from += 1000) {
      const size = Math.min(1000, total - from);
      await queue.addBulk(Array.from({ length: size }, (_, k) => ({ name: 'webhook', data: { body: JSON.stringify(benchPayload(from + k)) } })));
    }
    await startWorker();
    const warm = await waitForCount(receiverUrl, warmup, 300_000);
    const done = await waitForCount(receiverUrl, total, 300_000);
    const elapsed = done.lastAt - warm.lastAt;
    return { rate: ((done.count - warm.count) * 1000) / elapsed, elapsed };
  });
}
