import type { InboundRecord } from '../../store/store.js';
import { handlerRequest, type HandlerRequest } from './context.js';
import type { HandlerRun } from './run.js';

/**
 * What a handler running outside the main thread (a worker thread, a Python process) asks the server to do for it.
 * Every argument and result is plain JSON: it crosses a message port or a pipe.
 */
export interface HandlerHost {
  /** A call on `ctx.db.collection(name)` (documents.ts's Collection: insert, find, findOne, update, delete). */
  db(collection: string, method: string, args: unknown[]): Promise<unknown>;
  /** A pymongo-shaped call (mongo.ts) on a collection of the same document db. */
  mongo(collection: string, op: string, args: unknown[]): Promise<unknown>;
  emit(app: string, eventType: string, payload: unknown): Promise<{ id: string }>;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

/** A handler file as the loader found it, for a runner that imports it itself. */
export interface HandlerFile {
  path: string;
  /** Changes whenever the file does (mtime and size): a runner caches the imported module under it. */
  version: string;
}

/** The request as a handler sees it, in a form that can be cloned or serialised (the raw body as base64 for a pipe). */
export interface PortableRequest extends Omit<HandlerRequest, 'rawBody'> {
  id: string;
  rawBody: Uint8Array;
}

export function portableRequest(record: InboundRecord): PortableRequest {
  return { id: record.id, ...handlerRequest(record) };
}

export interface RunOptions {
  /** The per-event function to call (a GitHub handler's `push`), else the default one. */
  event: string | undefined;
  timeoutMs: number;
}

/** A runner of handler files outside the main thread. */
export interface HandlerRunner {
  run(file: HandlerFile, request: PortableRequest, host: HandlerHost, opts: RunOptions): Promise<HandlerRun>;
  close(): Promise<void>;
}
