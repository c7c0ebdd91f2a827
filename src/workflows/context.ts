import { parseBody, parseQuery } from '../inbound/body.js';
import type { InboundRecord } from '../store/store.js';

/** `$context` of a run: the request that started it, as NocoBase names its parts. */
export interface WorkflowContext {
  /** The parsed body: JSON as it is, a form as an object, text as a string; null for binary or empty bodies. */
  data: unknown;
  headers: Record<string, string>;
  query: Record<string, string | string[]>;
  /** The path after the source's name, whole and in segments (`/in/shop/orders/7` → `orders/7`, ['orders', '7']). */
  params: { path: string; segments: string[] };
  method: string;
  requestId: string;
  source: string | null;
  receivedAt: number;
}

export function contextOf(record: InboundRecord, sourceName: string | null): WorkflowContext {
  const path = record.path.replace(/^\/+/, '');
  return {
    data: parseBody(record.headers['content-type'], record.body) ?? null,
    headers: record.headers,
    query: parseQuery(record.query),
    params: { path, segments: path === '' ? [] : path.split('/') },
    method: record.method,
    requestId: record.id,
    source: sourceName,
    receivedAt: record.receivedAt,
  };
}
