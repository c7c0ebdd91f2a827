import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from 'pino';
import { parseBody } from '../body.js';
import type { HandlerContext } from './context.js';
import type { Collection, DocumentDb } from './documents.js';
import type { PortableRequest } from './host.js';
import { importHandlerModule, type HandlerModule } from './loader.js';
import { errorText, runHandler, type HandlerRun } from './run.js';

/**
 * The entry of a handler thread (thread-pool.ts). Protocol over the worker's port, structured-cloned:
 * main → thread: {t:'run', id, path, version, event, timeoutMs, request} · {t:'reply', call, ok, value | error}
 * thread → main: {t:'ready'} · {t:'started', id} (imported, the handler is called now) · {t:'call', job, call,
 *                 kind:'db'|'emit', …} · {t:'log', job, level, message, fields} · {t:'done', id, run}
 */
export type ToThread =
  | { t: 'run'; id: number; path: string; version: string; event: string | undefined; timeoutMs: number; request: PortableRequest }
  | { t: 'reply'; call: number; ok: true; value: unknown }
  | { t: 'reply'; call: number; ok: false; error: { name: string; message: string; code?: unknown } };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type FromThread =
  | { t: 'ready' }
  | { t: 'started'; id: number }
  | { t: 'call'; job: number; call: number; kind: 'db'; collection: string; method: string; args: unknown[] }
  | { t: 'call'; job: number; call: number; kind: 'emit'; app: string; eventType: string; payload: unknown }
  | { t: 'log'; job: number | null; level: LogLevel; message: string; fields?: Record<string, unknown> }
  | { t: 'done'; id: number; run: HandlerRun };

type CallMessage = Extract<FromThread, { t: 'call' }>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const port = parentPort;
if (port === null) throw new Error('handler-thread.ts runs as a worker thread only');

/**
 * Shared with the pool: the id of the job whose code runs right now (IDLE between callbacks), and a heartbeat. When a
 * timer finds the thread stuck (no beat), the running id tells the looping handler from the ones waiting behind it.
 */
const IDLE = -1;
const BEAT_MS = 20;
const shared = (workerData as { shared: SharedArrayBuffer }).shared;
const running = new Int32Array(shared, 0, 1);
const beat = new BigInt64Array(shared, 8, 1);
const jobOf = new AsyncLocalStorage<number>();
const stack: number[] = [];
createHook({
  before() {
    const job = jobOf.getStore() ?? IDLE;
    stack.push(job);
    Atomics.store(running, 0, job);
  },
  after() {
    stack.pop();
    Atomics.store(running, 0, stack.at(-1) ?? IDLE);
  },
}).enable();
const heartbeat = (): void => void Atomics.store(beat, 0, BigInt(Date.now()));
heartbeat();
setInterval(heartbeat, BEAT_MS).unref();

const modules = new Map<string, { version: string; module: Promise<HandlerModule> }>();
const calls = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
let nextCall = 0;

const send = (message: FromThread): void => port.postMessage(message);

function moduleOf(path: string, version: string): Promise<HandlerModule> {
  const cached = modules.get(path);
  if (cached?.version === version) return cached.module;
  // Failures are cached too, as in the loader: a broken file is not imported again until it changes.
  const module = importHandlerModule(path, version);
  modules.set(path, { version, module });
  return module;
}

function call(message: DistributiveOmit<CallMessage, 'call'>): Promise<unknown> {
  const id = nextCall++;
  return new Promise((resolve, reject) => {
    calls.set(id, { resolve, reject });
    try {
      send({ ...message, call: id } as CallMessage);
    } catch (err) {
      // An argument that cannot be cloned (a function, a class instance with private state…).
      calls.delete(id);
      reject(err as Error);
    }
  });
}

function remoteError(error: { name: string; message: string; code?: unknown }): Error {
  const err = new Error(error.message) as Error & { code?: unknown };
  err.name = error.name;
  if (error.code !== undefined) err.code = error.code;
  return err;
}

const COLLECTION_METHODS = ['insert', 'find', 'findOne', 'update', 'delete'] as const;

function threadDb(job: number): DocumentDb {
  return {
    collection(name: string): Collection {
      const methods: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
      for (const method of COLLECTION_METHODS) {
        methods[method] = (...args) => call({ t: 'call', job, kind: 'db', collection: name, method, args });
      }
      return methods as unknown as Collection;
    },
  };
}

/** Fields as JSON would log them: errors by name and message, nothing that cannot cross the port. */
function logFields(fields: Record<string, unknown>): Record<string, unknown> | undefined {
  if (Object.keys(fields).length === 0) return undefined;
  try {
    const text = JSON.stringify(fields, (_key, value: unknown) =>
      value instanceof Error ? { type: value.name, message: value.message } : typeof value === 'bigint' ? String(value) : value,
    );
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { fields: '[unserialisable]' };
  }
}

/** Enough of pino for a handler: `log.info('text')`, `log.info({fields}, 'text')`, `log.child({…})`. */
function threadLogger(job: number, bindings: Record<string, unknown> = {}): Logger {
  const at = (level: LogLevel) => (first?: unknown, second?: unknown): void => {
    const ownFields = typeof first === 'object' && first !== null ? (first instanceof Error ? { err: first } : first) : {};
    const message = typeof first === 'string' ? first : typeof second === 'string' ? second : first instanceof Error ? first.message : '';
    send({ t: 'log', job, level, message, fields: logFields({ ...bindings, ...(ownFields as Record<string, unknown>) }) });
  };
  const logger = {
    trace: at('debug'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('error'),
    child: (more: Record<string, unknown>) => threadLogger(job, { ...bindings, ...more }),
    bindings: () => ({ ...bindings }),
  };
  return logger as unknown as Logger;
}

function contextOf(job: number, request: PortableRequest): HandlerContext {
  const { id: _id, rawBody, ...rest } = request;
  const bytes = Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  return {
    // The pool sends the bytes only (thread-pool.ts): parsed here as in the main thread.
    request: { ...rest, body: parseBody(rest.headers['content-type'], bytes), rawBody: bytes },
    db: threadDb(job),
    emit: (app, eventType, payload) => call({ t: 'call', job, kind: 'emit', app, eventType, payload }) as Promise<{ id: string }>,
    log: threadLogger(job),
    fetch: globalThis.fetch,
  };
}

async function run(message: Extract<ToThread, { t: 'run' }>): Promise<void> {
  let result: HandlerRun;
  try {
    const module = await moduleOf(message.path, message.version);
    send({ t: 'started', id: message.id });
    // The thread's own timer ends an awaiting handler; the pool's timer (a little later) ends a busy one.
    result = await runHandler(module, contextOf(message.id, message.request), { event: message.event, timeoutMs: message.timeoutMs });
  } catch (err) {
    result = { status: 'failed', output: null, error: err instanceof Error ? err.message : errorText(err), durationMs: 0 };
  }
  send({ t: 'done', id: message.id, run: result });
}

port.on('message', (message: ToThread) => {
  if (message.t === 'run') {
    jobOf.run(message.id, () => {
      Atomics.store(running, 0, message.id);
      void run(message);
    });
    return;
  }
  const pending = calls.get(message.call);
  if (pending === undefined) return;
  calls.delete(message.call);
  if (message.ok) pending.resolve(message.value);
  else pending.reject(remoteError(message.error));
});

send({ t: 'ready' });

// A handler's forgotten promise must not end the thread (and every request running on it).
process.on('unhandledRejection', (reason) => {
  send({ t: 'log', job: null, level: 'warn', message: `unhandled rejection in a handler: ${errorText(reason)}` });
});
