import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FromThread, ToThread } from './handler-thread.js';
import type { HandlerFile, HandlerHost, HandlerRunner, PortableRequest, RunOptions } from './host.js';
import type { HandlerRun } from './run.js';

/** Jobs in flight on one thread at most: async handlers waiting on fetch or db share a thread without queueing. */
const MAX_IN_FLIGHT = 16;
/** The thread ends an awaiting handler itself at the timeout; the pool waits this much longer before killing it. */
const KILL_GRACE_MS = 100;
/** A thread whose heartbeat (every 20 ms) is older than this is stuck in some code that does not yield. */
const STUCK_MS = 100;
/** Times a job waiting behind a blocked handler is moved to another thread before it counts as timed out itself. */
const MAX_MOVES = 2;

export interface HandlerThreadPoolOptions {
  /** Long-lived threads, started on first use (HOOKYARD_HANDLER_THREADS). */
  size: number;
  /** Heap limit of each thread (HOOKYARD_HANDLER_MEMORY_MB). */
  memoryMb: number;
  logger: Logger;
}

interface Job {
  id: number;
  file: HandlerFile;
  request: PortableRequest;
  host: HandlerHost;
  opts: RunOptions;
  /** Threads this job was running on when they crashed. */
  crashes: number;
  /** Runs alone on a thread of its own: it was on a thread that crashed, and is either the culprit or innocent. */
  isolated: boolean;
  /** Times it was taken off a thread that another handler blocked. */
  moves: number;
  timer?: NodeJS.Timeout;
  thread?: HandlerThread;
  finish(run: HandlerRun): void;
}

/**
 * From dist/ the compiled .js. Under vitest only the .ts source exists: a bootstrap imports it through tsx (Node 20
 * ignores `--import` in a worker's execArgv for its entry).
 */
function workerEntry(): { entry: URL | string; eval: boolean } {
  const js = new URL('./handler-thread.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts') || existsSync(fileURLToPath(js))) return { entry: js, eval: false };
  // The ES module build of tsx's API (require.resolve would give the CommonJS one).
  const tsx = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const ts = new URL('./handler-thread.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => register({ namespace: 'hookyard-thread' }).import(${JSON.stringify(ts)}, ${JSON.stringify(ts)}))`;
  return { entry: bootstrap, eval: true };
}

const failed = (error: string): HandlerRun => ({ status: 'failed', output: null, error, durationMs: 0 });

const errorFields = (err: unknown): { name: string; message: string; code?: unknown } => {
  if (err instanceof Error) return { name: err.name, message: err.message, code: (err as { code?: unknown }).code };
  return { name: 'Error', message: String(err) };
};

class HandlerThread {
  readonly worker: Worker;
  readonly jobs = new Map<number, Job>();
  /** Terminated or crashed: no new jobs, and its exit is not a crash to handle (again). */
  gone = false;
  /** Found busy with one job past another's deadline: no new jobs until it answers again (or is killed). */
  blocked = false;
  /** Its code is loaded: job timers run from here, so a slow start (a busy machine) is not charged to handlers. */
  ready = false;
  /** Written by the thread (handler-thread.ts): the job whose code runs right now, and its last heartbeat. */
  private readonly shared = new SharedArrayBuffer(16);
  private readonly running = new Int32Array(this.shared, 0, 1);
  private readonly beat = new BigInt64Array(this.shared, 8, 1);

  constructor(
    memoryMb: number,
    readonly dedicated: boolean,
    onMessage: (thread: HandlerThread, message: FromThread) => void,
    onCrash: (thread: HandlerThread, reason: string) => void,
  ) {
    this.running[0] = -1;
    const { entry, eval: isCode } = workerEntry();
    this.worker = new Worker(entry, {
      eval: isCode,
      workerData: { shared: this.shared },
      resourceLimits: { maxOldGenerationSizeMb: memoryMb },
    });
    this.worker.on('message', (message: FromThread) => onMessage(this, message));
    this.worker.on('error', (err: Error & { code?: string }) => {
      onCrash(this, err.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `handler ran out of memory (limit ${memoryMb} MB)`
        : `handler thread crashed: ${err.name}: ${err.message}`);
    });
    this.worker.on('exit', (code) => onCrash(this, `handler thread exited with code ${code}`));
    // An idle thread must not keep the process alive (a CLI run, a test) once everything else is done.
    this.worker.unref();
  }

  post(message: ToThread): void {
    this.worker.postMessage(message);
  }

  /** The job running now, when the thread is stuck in it (or in code of no job: -1); null when the thread is responsive. */
  stuckIn(now = Date.now()): number | null {
    const beat = Number(Atomics.load(this.beat, 0));
    // No beat yet: still loading its own code.
    if (beat === 0 || now - beat <= STUCK_MS) return null;
    return Atomics.load(this.running, 0);
  }
}

/**
 * Runs JavaScript/TypeScript handlers on worker threads, so that a busy or runaway handler cannot stall the server.
 * Jobs go to the least-loaded thread (up to MAX_IN_FLIGHT each). A handler still running past its timeout is failed and
 * its thread replaced (a loop cannot be interrupted otherwise); the jobs waiting behind it start again elsewhere. When a
 * thread dies (out of memory, process.exit) its jobs each start again alone on a thread of their own: the one that
 * dies alone is the culprit and fails; the others finish. A job that starts again may repeat effects it already had.
 */
export class HandlerThreadPool implements HandlerRunner {
  private readonly threads: HandlerThread[] = [];
  private readonly waiting: Job[] = [];
  private nextJob = 0;
  private closed = false;

  constructor(private readonly options: HandlerThreadPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new Error('a handler thread pool needs at least one thread');
  }

  run(file: HandlerFile, request: PortableRequest, host: HandlerHost, opts: RunOptions): Promise<HandlerRun> {
    if (this.closed) return Promise.resolve(failed('the handler threads are shut down'));
    return new Promise<HandlerRun>((resolve) => {
      // Ids stay within the thread's Int32 "running" slot.
      this.nextJob = (this.nextJob + 1) % 2 ** 31;
      const job: Job = {
        id: this.nextJob,
        file,
        // The thread parses the body again from the bytes: a deeply nested one cannot be cloned (the stack overflows).
        // A copy of its own bytes: a Buffer may be a slice of a larger pooled buffer, and cloning copies all of it.
        request: { ...request, body: undefined, rawBody: new Uint8Array(request.rawBody) },
        host,
        opts,
        crashes: 0,
        isolated: false,
        moves: 0,
        finish: resolve,
      };
      this.dispatch(job);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.finish(failed('the handler threads are shut down'));
    const threads = this.threads.splice(0);
    for (const thread of threads) {
      thread.gone = true;
      for (const job of thread.jobs.values()) this.settle(job, failed('the handler threads are shut down'));
    }
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  /** Threads alive and jobs in flight on each (for tests and metrics). */
  get load(): number[] {
    return this.threads.map((thread) => thread.jobs.size);
  }

  private dispatch(job: Job): void {
    if (this.closed) {
      job.finish(failed('the handler threads are shut down'));
      return;
    }
    const thread = job.isolated ? this.spawn(true) : this.pickThread();
    if (thread === null) {
      this.waiting.push(job);
      return;
    }
    job.thread = thread;
    thread.jobs.set(job.id, job);
    if (thread.ready) this.startTimer(job);
    try {
      thread.post({ t: 'run', id: job.id, path: job.file.path, version: job.file.version, event: job.opts.event, timeoutMs: job.opts.timeoutMs, request: job.request });
    } catch (err) {
      this.settle(job, failed(`the request could not be passed to a handler thread: ${(err as Error).message}`));
    }
  }

  private startTimer(job: Job): void {
    clearTimeout(job.timer);
    job.timer = setTimeout(() => this.timedOut(job), job.opts.timeoutMs + KILL_GRACE_MS);
  }

  /** An idle thread, else a new one while below the size, else the least-loaded one with room; null when all are full. */
  private pickThread(): HandlerThread | null {
    let best: HandlerThread | null = null;
    let shared = 0;
    for (const thread of this.threads) {
      // A blocked thread is about to be killed (or to recover): it does not count, so a new one can take its place.
      if (thread.dedicated || thread.blocked) continue;
      shared += 1;
      if (best === null || thread.jobs.size < best.jobs.size) best = thread;
    }
    if ((best === null || best.jobs.size > 0) && shared < this.options.size) return this.spawn(false);
    return best !== null && best.jobs.size < MAX_IN_FLIGHT ? best : null;
  }

  private spawn(dedicated: boolean): HandlerThread {
    const thread = new HandlerThread(
      this.options.memoryMb,
      dedicated,
      (from, message) => this.onMessage(from, message),
      (from, reason) => this.crashed(from, reason),
    );
    this.threads.push(thread);
    return thread;
  }

  private onMessage(thread: HandlerThread, message: FromThread): void {
    thread.blocked = false;
    if (message.t === 'ready') {
      thread.ready = true;
      for (const job of thread.jobs.values()) this.startTimer(job);
      return;
    }
    if (message.t === 'started') {
      // The timeout is the handler's, as in the main thread: importing the file had a timeout of its own.
      const job = thread.jobs.get(message.id);
      if (job !== undefined) this.startTimer(job);
      return;
    }
    if (message.t === 'done') {
      const job = thread.jobs.get(message.id);
      if (job !== undefined) this.settle(job, message.run);
      return;
    }
    const job = message.job === null ? undefined : thread.jobs.get(message.job);
    if (message.t === 'log') {
      if (job !== undefined) job.host.log(message.level, message.message, message.fields);
      else this.options.logger[message.level]({ ...message.fields }, message.message);
      return;
    }
    // A call from a job that has ended (timed out, started again elsewhere) must not have effects any more.
    const result = Promise.resolve().then(() => {
      if (job === undefined) throw new Error('the request this call belongs to is no longer running');
      return message.kind === 'db'
        ? job.host.db(message.collection, message.method, message.args)
        : job.host.emit(message.app, message.eventType, message.payload);
    });
    void result.then(
      (value) => this.reply(thread, { t: 'reply', call: message.call, ok: true, value }),
      (err: unknown) => this.reply(thread, { t: 'reply', call: message.call, ok: false, error: errorFields(err) }),
    );
  }

  private reply(thread: HandlerThread, message: ToThread): void {
    if (thread.gone) return;
    try {
      thread.post(message);
    } catch (err) {
      const call = (message as { call: number }).call;
      try {
        thread.post({ t: 'reply', call, ok: false, error: { name: 'Error', message: `the result could not be passed back: ${(err as Error).message}` } });
      } catch {
        // The thread is going away: nobody waits for the answer.
      }
    }
  }

  /** Ends a job: its thread makes room (a dedicated thread goes), and a waiting job may start. */
  private settle(job: Job, run: HandlerRun): void {
    clearTimeout(job.timer);
    const thread = job.thread;
    if (thread !== undefined) {
      thread.jobs.delete(job.id);
      if (thread.dedicated && !thread.gone) this.retire(thread);
    }
    job.thread = undefined;
    job.finish(run);
    this.drainWaiting();
  }

  private drainWaiting(): void {
    while (this.waiting.length > 0) {
      const thread = this.pickThread();
      if (thread === null) return;
      this.dispatch(this.waiting.shift()!);
    }
  }

  private retire(thread: HandlerThread): void {
    thread.gone = true;
    const index = this.threads.indexOf(thread);
    if (index >= 0) this.threads.splice(index, 1);
    thread.worker.terminate().catch((err: unknown) => this.options.logger.warn({ err }, 'could not terminate a handler thread'));
  }

  /** The pool's timer: the thread did not report the job even after its own timer should have ended it. */
  private timedOut(job: Job): void {
    const thread = job.thread;
    if (thread === undefined || thread.gone) return;
    const timedOut: HandlerRun = { status: 'failed', output: null, error: `handler timed out after ${job.opts.timeoutMs} ms`, durationMs: job.opts.timeoutMs };
    const stuckIn = thread.stuckIn();
    if (stuckIn === null) {
      // The thread is responsive: its own timer's answer is late, not lost. Leave the thread be.
      this.settle(job, timedOut);
      return;
    }
    if (stuckIn !== job.id && thread.jobs.has(stuckIn)) {
      // Another handler holds the thread: this one only waits behind it. Start it again elsewhere.
      thread.blocked = true;
      thread.jobs.delete(job.id);
      job.thread = undefined;
      job.moves += 1;
      if (job.moves > MAX_MOVES) this.settle(job, timedOut);
      else this.restart(job);
      return;
    }
    // Stuck in this handler, or in code of no request (a module's top level): the thread cannot be saved.
    this.options.logger.warn({ path: job.file.path, requestId: job.request.id, timeoutMs: job.opts.timeoutMs }, 'handler did not yield before its timeout: replacing its thread');
    this.retire(thread);
    const others = [...thread.jobs.values()].filter((other) => other !== job);
    thread.jobs.clear();
    job.thread = undefined;
    this.settle(job, timedOut);
    for (const other of others) {
      other.thread = undefined;
      this.restart(other);
    }
  }

  private crashed(thread: HandlerThread, reason: string): void {
    if (thread.gone) return;
    this.retire(thread);
    const jobs = [...thread.jobs.values()];
    thread.jobs.clear();
    this.options.logger.warn({ reason, jobs: jobs.length }, 'a handler thread died: replacing it');
    for (const job of jobs) {
      job.thread = undefined;
      job.crashes += 1;
      // Alone on its thread (or dying a second time), the job is the one that killed it.
      if (jobs.length === 1 || job.crashes > 1 || job.isolated) this.settle(job, failed(reason));
      else {
        job.isolated = true;
        this.restart(job);
      }
    }
    this.drainWaiting();
  }

  private restart(job: Job): void {
    clearTimeout(job.timer);
    this.dispatch(job);
  }
}
