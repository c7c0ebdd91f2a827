import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { HandlerFile, HandlerHost, HandlerRunner, PortableRequest, RunOptions } from './host.js';
import type { HandlerRun } from './run.js';

/** From src/ (tests) and from dist/ alike: the runner is a source file, not compiled. */
const RUNNER = fileURLToPath(new URL('../../../src/inbound/handlers/python-runner.py', import.meta.url));
const STDERR_TAIL = 2_000;
const START_TIMEOUT_MS = 10_000;
const LOG_LEVELS = new Set(['debug', 'info', 'warn', 'error']);

export interface PythonPoolOptions {
  /** The interpreter: a name on PATH or a path (HOOKYARD_PYTHON). */
  python: string;
  /** Processes at most (HOOKYARD_PYTHON_WORKERS); started on first use, kept for the next request. */
  workers: number;
  logger: Logger;
}

/**
 * Protocol, one JSON object per line.
 * server → python: {t:'run', id, file, version, event, request} · {t:'reply', id, ok, value | error, code}
 * python → server: {t:'ready'} · {t:'call', id, run, kind:'mongo'|'emit', …} · {t:'log', run, level, message, fields}
 *                  · {t:'done', id, ok, skipped, value | error}
 */
type FromPython =
  | { t: 'ready' }
  | { t: 'call'; id: number; kind: 'mongo'; collection: string; op: string; args: unknown[] }
  | { t: 'call'; id: number; kind: 'emit'; app: string; eventType: string; payload: unknown }
  | { t: 'log'; level: string; message: string; fields?: Record<string, unknown> }
  | { t: 'done'; id: number; ok: true; skipped: boolean; value: unknown }
  | { t: 'done'; id: number; ok: false; error: string };

interface Job {
  host: HandlerHost;
  finish(run: Omit<HandlerRun, 'durationMs'>): void;
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** One long-lived `python3 python-runner.py`, running one request at a time. */
class PythonProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';
  private job: Job | null = null;
  private nextRun = 0;
  alive = true;
  readonly ready: Promise<void>;

  constructor(python: string, private readonly logger: Logger, private readonly onExit: (process: PythonProcess) => void) {
    this.child = spawn(python, ['-u', RUNNER], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${python} did not start the handler runner within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      this.child.once('error', (err) => reject(new Error(`the Python interpreter "${python}" could not be started (${err.message}); install python3 or set HOOKYARD_PYTHON`)));
      this.child.once('exit', (code, signal) => reject(new Error(`the Python interpreter "${python}" exited at start (${signal ?? `code ${code}`}): ${this.stderr.trim().slice(-500)}`)));
      this.onReady = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.ready.catch(() => this.kill());
    this.child.stdin.on('error', () => {}); // a dead process: its exit handler reports it
    this.child.stderr.setEncoding('utf8').on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_TAIL);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.receive(line));
    this.child.on('exit', (code, signal) => {
      this.alive = false;
      this.job?.finish({ status: 'failed', output: null, error: `the Python handler process exited (${signal ?? `code ${code}`})${this.stderrTail()}` });
      this.job = null;
      this.onExit(this);
    });
  }

  private onReady: () => void = () => {};

  private stderrTail(): string {
    const tail = this.stderr.trim().split('\n').slice(-3).join(' | ');
    return tail === '' ? '' : `: ${tail}`;
  }

  run(file: HandlerFile, request: PortableRequest, opts: RunOptions, job: Job): void {
    this.job = job;
    this.send({
      t: 'run',
      id: ++this.nextRun,
      file: file.path,
      version: file.version,
      event: opts.event ?? null,
      request: { ...request, rawBody: Buffer.from(request.rawBody).toString('base64') },
    });
  }

  kill(): void {
    this.alive = false;
    this.child.kill('SIGKILL');
  }

  /** Whether the process sits between requests (a timed-out one is killed, a crashed one gone). */
  get idle(): boolean {
    return this.alive && this.job === null;
  }

  private send(message: unknown): void {
    if (this.alive) this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  private receive(line: string): void {
    let message: FromPython;
    try {
      message = JSON.parse(line) as FromPython;
    } catch {
      this.logger.warn({ line: line.slice(0, 200) }, 'unreadable line from the Python handler process');
      return;
    }
    const job = this.job;
    if (message.t === 'ready') return this.onReady();
    if (job === null) return;
    if (message.t === 'log') {
      const level = LOG_LEVELS.has(message.level) ? (message.level as 'info') : 'info';
      job.host.log(level, message.message, message.fields);
    } else if (message.t === 'call') {
      const call = message.kind === 'mongo'
        ? job.host.mongo(message.collection, message.op, message.args)
        : job.host.emit(message.app, message.eventType, message.payload);
      call.then(
        (value) => this.job === job && this.send({ t: 'reply', id: message.id, ok: true, value: value ?? null }),
        (err: unknown) => this.job === job && this.send({ t: 'reply', id: message.id, ok: false, error: errorMessage(err), code: (err as { code?: unknown }).code ?? null }),
      );
    } else if (message.t === 'done') {
      this.job = null;
      job.finish(message.ok
        ? { status: message.skipped ? 'skipped' : 'succeeded', output: message.value, error: null }
        : { status: 'failed', output: null, error: message.error });
    }
  }
}

/**
 * Python handlers, run in a pool of long-lived interpreter processes (stdlib only) that reach the document db, emit
 * and the log through the server. A handler past its timeout is stopped by killing its process, which is replaced
 * on the next request: Python cannot interrupt arbitrary code from outside.
 */
export class PythonPool implements HandlerRunner {
  private readonly processes = new Set<PythonProcess>();
  /** Processes handed to a run that has not yet sent its request (idle, but taken). */
  private readonly reserved = new Set<PythonProcess>();
  private readonly waiting: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: PythonPoolOptions) {}

  /** Null when the interpreter runs, else why not: checked at start when a handler file is Python, for one warning. */
  static async check(python: string): Promise<string | null> {
    return new Promise((resolve) => {
      const child = spawn(python, ['-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 3)'], { stdio: 'ignore' });
      child.once('error', (err) => resolve(`the Python interpreter "${python}" could not be started (${err.message})`));
      child.once('exit', (code) => resolve(code === 0 ? null : code === 3 ? `"${python}" is older than Python 3.8` : `"${python}" exited with code ${code}`));
    });
  }

  async run(file: HandlerFile, request: PortableRequest, host: HandlerHost, opts: RunOptions): Promise<HandlerRun> {
    const started = performance.now();
    const done = (run: Omit<HandlerRun, 'durationMs'>): HandlerRun => ({ ...run, durationMs: Math.round(performance.now() - started) });
    let process: PythonProcess;
    try {
      process = await this.acquire();
    } catch (err) {
      return done({ status: 'failed', output: null, error: errorMessage(err) });
    }
    // The timeout counts from the start of the run, not of the wait for a free process.
    return new Promise<HandlerRun>((resolve) => {
      const timer = setTimeout(() => {
        finish({ status: 'failed', output: null, error: `handler timed out after ${opts.timeoutMs} ms` });
        process.kill();
      }, opts.timeoutMs);
      let settled = false;
      const finish = (run: Omit<HandlerRun, 'durationMs'>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(done(run));
        this.release(process);
      };
      process.run(file, request, opts, { host, finish });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const process of this.processes) process.kill();
    this.processes.clear();
  }

  private async acquire(): Promise<PythonProcess> {
    for (;;) {
      if (this.closed) throw new Error('the server is stopping');
      const idle = [...this.processes].find((process) => process.idle && !this.reserved.has(process));
      if (idle !== undefined) {
        this.reserved.add(idle);
        return idle;
      }
      if (this.processes.size < this.options.workers) {
        const process = new PythonProcess(this.options.python, this.options.logger, (exited) => {
          this.processes.delete(exited);
          this.wake();
        });
        this.processes.add(process);
        this.reserved.add(process);
        try {
          await process.ready;
        } catch (err) {
          this.reserved.delete(process);
          this.processes.delete(process);
          throw err;
        }
        return process;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(process: PythonProcess): void {
    this.reserved.delete(process);
    this.wake();
  }

  private wake(): void {
    this.waiting.shift()?.();
  }
}

/**
 * One warning line at start when the handlers directory holds Python files that cannot run: their requests would
 * otherwise only fail one by one. Nothing is checked (nor started) when there is no Python handler.
 */
export async function warnIfPythonUnavailable(handlersDir: string, python: string, logger: Logger): Promise<void> {
  const files = await readdir(handlersDir).then((names) => names.filter((name) => name.endsWith('.py')), () => []);
  if (files.length === 0) return;
  const problem = await PythonPool.check(python);
  if (problem !== null) logger.warn({ files }, `Python handlers (${files.join(', ')}) cannot run: ${problem}; their requests fail until python3 is installed or HOOKYARD_PYTHON points at it`);
}
