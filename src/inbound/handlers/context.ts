import type { Logger } from 'pino';
import type { InboundRecord } from '../../store/store.js';
import { parseBody, parseQuery } from '../body.js';
import type { DocumentDb } from './documents.js';

export type EmitFn = (app: string, eventType: string, payload: unknown) => Promise<{ id: string }>;

export interface HandlerRequest {
  method: string;
  /** The path after the source's name ('' for the bare receiving URL). */
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  query: Record<string, string | string[]>;
  params: { path: string };
  /** Parsed by content type; undefined for binary, non-UTF-8 or empty bodies. */
  body: unknown;
  /** The bytes as received (signatures are computed over these). */
  rawBody: Buffer;
}

/** What a handler receives: the stored request, the document store, outbound emit, a logger and fetch. */
export interface HandlerContext {
  request: HandlerRequest;
  db: DocumentDb;
  emit: EmitFn;
  log: Logger;
  fetch: typeof globalThis.fetch;
}

/** A handler file's default export, or one of its per-event exports. */
export type HandlerFn = (ctx: HandlerContext) => unknown;

export interface ContextOptions {
  record: InboundRecord;
  db: DocumentDb;
  emit: EmitFn;
  log: Logger;
}

/** The stored request as a handler sees it. */
export function handlerRequest(record: InboundRecord): HandlerRequest {
  return {
    method: record.method,
    path: record.path,
    headers: record.headers,
    query: parseQuery(record.query),
    params: { path: record.path },
    body: parseBody(record.headers['content-type'], record.body),
    rawBody: record.body,
  };
}

export function buildContext(opts: ContextOptions): HandlerContext {
  const { record } = opts;
  return {
    request: handlerRequest(record),
    db: opts.db,
    emit: opts.emit,
    log: opts.log.child({ requestId: record.id }),
    fetch: globalThis.fetch,
  };
}
