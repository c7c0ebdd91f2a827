import type { HandlerContext, HandlerFn } from './context.js';
import type { HandlerModule } from './loader.js';

export interface HandlerRun {
  /** skipped: the file has no export for this request (a GitHub handler without one for the event). */
  status: 'succeeded' | 'failed' | 'skipped';
  /** What the handler returned, as JSON would store it; null when it returned nothing or failed. */
  output: unknown;
  error: string | null;
  durationMs: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: string };

/** Name and message, never the stack: the error is stored with the request and shown in the API. */
export function errorText(err: unknown): string {
  if (isRecord(err) && typeof err.message === 'string') {
    return typeof err.name === 'string' && err.name !== '' ? `${err.name}: ${err.message}` : err.message;
  }
  return typeof err === 'string' ? err : `non-error value thrown: ${String(err)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pick(module: HandlerModule, event: string | undefined): HandlerFn | undefined {
  // Own properties only: an event named `constructor` or `__proto__` must not reach Object.prototype.
  if (event !== undefined && Object.hasOwn(module.events, event)) return module.events[event];
  return module.default;
}

/** Settles with the handler's result, or its error, or a timeout; a late result after the timeout is dropped. */
function settle(fn: HandlerFn, ctx: HandlerContext, timeoutMs: number): Promise<Settled> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Settled>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: `handler timed out after ${timeoutMs} ms` }), timeoutMs);
  });
  // `new Promise` turns a synchronous throw into a rejection; race keeps a late rejection from going unhandled.
  const result = new Promise<unknown>((resolve) => resolve(fn(ctx))).then(
    (value): Settled => ({ ok: true, value }),
    (err: unknown): Settled => ({ ok: false, error: errorText(err) }),
  );
  return Promise.race([result, timeout]).finally(() => clearTimeout(timer));
}

/** The output as it will be stored: JSON round-tripped, so what the API shows later is what was recorded. */
function jsonOutput(value: unknown): Settled {
  if (value === undefined) return { ok: true, value: null };
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    return { ok: false, error: `handler output is not JSON-serialisable: ${errorText(err)}` };
  }
  if (text === undefined) return { ok: false, error: `handler output is not JSON-serialisable: a ${typeof value}` };
  return { ok: true, value: JSON.parse(text) as unknown };
}

export async function runHandler(
  module: HandlerModule,
  ctx: HandlerContext,
  opts: { event?: string | undefined; timeoutMs: number },
): Promise<HandlerRun> {
  const fn = pick(module, opts.event);
  if (fn === undefined) return { status: 'skipped', output: null, error: null, durationMs: 0 };
  const started = performance.now();
  const settled = await settle(fn, ctx, opts.timeoutMs);
  const outcome = settled.ok ? jsonOutput(settled.value) : settled;
  const durationMs = Math.round(performance.now() - started);
  return outcome.ok
    ? { status: 'succeeded', output: outcome.value, error: null, durationMs }
    : { status: 'failed', output: null, error: outcome.error, durationMs };
}

const RESPONSE_KEYS = new Set(['status', 'headers', 'body']);

/** `{status, headers?, body?}` and nothing else, so that data which happens to have a `status` field stays data. */
function isResponseShape(output: unknown): output is { status: number; headers?: Record<string, unknown>; body?: unknown } {
  if (!isRecord(output)) return false;
  const { status, headers } = output;
  return (
    Object.keys(output).every((key) => RESPONSE_KEYS.has(key)) &&
    typeof status === 'number' &&
    Number.isInteger(status) &&
    // 1xx is not a final answer: the sender would be left waiting.
    status >= 200 &&
    status <= 599 &&
    (headers === undefined || isRecord(headers))
  );
}

const json = (value: unknown): string => JSON.stringify(value) ?? 'null';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]{0,8192}$/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'te', 'trailer', 'upgrade', 'proxy-connection']);

/** The sync-mode HTTP response for a handler's output. Throws when the output asks for a header that cannot be sent. */
export function toHttpResponse(output: unknown): HttpResponse {
  if (!isResponseShape(output)) {
    return { status: 200, headers: { 'content-type': 'application/json' }, body: json(output) };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(output.headers ?? {})) {
    if (typeof value !== 'string' && typeof value !== 'number') continue;
    const text = String(value);
    // A header Node would refuse to write (bad name, control characters) fails the handler rather than the response;
    // framing and hop-by-hop headers are Hookyard's to set.
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(text)) throw new Error(`the handler returned an invalid header "${name.slice(0, 100)}"`);
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    headers[name.toLowerCase()] = text;
  }
  const { body } = output;
  if (body === undefined) return { status: output.status, headers, body: '' };
  if (typeof body === 'string') {
    headers['content-type'] ??= 'text/plain; charset=utf-8';
    return { status: output.status, headers, body };
  }
  headers['content-type'] ??= 'application/json';
  return { status: output.status, headers, body: json(body) };
}
