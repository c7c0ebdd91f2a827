import { EventEmitter } from 'node:events';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { checkDestinationUrl, DestinationRefusedError, guardedLookup, ipLiteral, isForbiddenAddress, PRIVATE_ADDRESS_REASON } from './ssrf.js';

export interface HttpClientOptions {
  allowPrivate: boolean;
  userAgent?: string;
  /** How much of a response body is kept (default 4096 bytes). */
  maxResponseBytes?: number;
}

export interface PostResult {
  statusCode: number;
  headers: Record<string, string>;
  /** The first maxResponseBytes of the body as UTF-8; a character cut in half becomes U+FFFD. */
  body: string;
  durationMs: number;
}

export interface PostInit {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export class DeliveryTimeoutError extends Error {
  readonly code = 'timeout';
  constructor(ms: number, options?: { cause?: unknown }) {
    super(`no complete response within ${ms} ms`, options);
    this.name = 'DeliveryTimeoutError';
  }
}

export class DeliveryConnectionError extends Error {
  readonly code = 'connection_error';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeliveryConnectionError';
  }
}

/** The abort handle of one attempt, in the EventEmitter form undici accepts as a signal (it reads `reason`). */
class AttemptAbort extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

const DEFAULT_MAX_RESPONSE_BYTES = 4096;
// Up to this much of a response is read and thrown away so the socket can be reused; past it, dropping the socket is cheaper.
const DRAIN_LIMIT = 64 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;
// setTimeout treats anything larger as 1 ms.
const MAX_TIMER_MS = 2 ** 31 - 1;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** The outbound client for webhook deliveries: one keep-alive pool per origin, no redirects, SSRF guard at connect. */
export class HttpClient {
  private readonly agent: Agent;
  private readonly allowPrivate: boolean;
  private readonly userAgent: string | undefined;
  private readonly maxResponseBytes: number;
  private readonly followed = new WeakMap<AbortSignal, Set<AttemptAbort>>();

  constructor(opts: HttpClientOptions) {
    this.allowPrivate = opts.allowPrivate;
    this.userAgent = opts.userAgent;
    this.maxResponseBytes = Math.max(0, Math.floor(opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES));
    this.agent = new Agent({
      connect: makeConnector(opts.allowPrivate),
      keepAliveTimeout: 15_000,
      keepAliveMaxTimeout: 60_000,
      // 1 keeps connections alive without pipelining; 0 would disable keep-alive.
      pipelining: 1,
    });
  }

  /**
   * One delivery attempt. Rejects with DestinationRefusedError, DeliveryTimeoutError or DeliveryConnectionError;
   * if `init.signal` aborts, rejects with its reason instead.
   */
  async post(url: string, init: PostInit): Promise<PostResult> {
    const started = performance.now();
    const target = this.target(url);
    const outer = init.signal;
    if (outer?.aborted) throw abortReason(outer);
    if (!(init.timeoutMs > 0)) throw new RangeError('timeoutMs must be a positive number');

    // undici takes an EventEmitter as a request's signal: one per attempt costs a fraction of an AbortController (whose
    // creation, listeners and EventTarget checks were ~5 µs of CPU per delivery).
    const attempt = new AttemptAbort();
    const timer = setTimeout(() => attempt.abort(new DeliveryTimeoutError(init.timeoutMs)), Math.min(init.timeoutMs, MAX_TIMER_MS));
    const callers = outer ? this.follow(outer) : undefined;
    callers?.add(attempt);

    try {
      const response = await this.agent.request({
        origin: target.origin,
        path: target.pathname + target.search,
        method: 'POST',
        headers: this.withUserAgent(init.headers),
        body: init.body,
        signal: attempt,
      });
      const body = await keepPrefix(response.body, this.maxResponseBytes, response.headers['content-length']);
      return {
        statusCode: response.statusCode,
        headers: flattenHeaders(response.headers),
        body: body.toString('utf8'),
        durationMs: performance.now() - started,
      };
    } catch (err) {
      if (err instanceof DestinationRefusedError) throw err;
      if (attempt.reason instanceof DeliveryTimeoutError) throw new DeliveryTimeoutError(init.timeoutMs);
      if (outer?.aborted) throw abortReason(outer);
      throw classify(err, init.timeoutMs, target.hostname);
    } finally {
      clearTimeout(timer);
      callers?.delete(attempt);
    }
  }

  /**
   * The attempts in flight on behalf of a caller's signal: one listener per signal (not one per attempt) aborts them
   * all with its reason.
   */
  private follow(signal: AbortSignal): Set<AttemptAbort> {
    let attempts = this.followed.get(signal);
    if (attempts === undefined) {
      const set = new Set<AttemptAbort>();
      attempts = set;
      this.followed.set(signal, set);
      signal.addEventListener('abort', () => {
        for (const attempt of set) attempt.abort(abortReason(signal));
      }, { once: true });
    }
    return attempts;
  }

  /** Waits for requests in flight, then closes every pooled connection. */
  close(): Promise<void> {
    return this.agent.close();
  }

  private target(url: string): URL {
    // Host names pass the static check here on purpose: they are judged by the connect-time lookup, on the address used.
    const verdict = checkDestinationUrl(url, true);
    if (!verdict.ok) throw new DestinationRefusedError(hostOf(url), null, verdict.reason);
    const parsed = verdict.url;
    if (!this.allowPrivate) {
      // Node never calls `lookup` for an IP literal, so literals are judged before anything is sent.
      const literal = ipLiteral(parsed.hostname);
      if (literal !== null && isForbiddenAddress(literal)) throw new DestinationRefusedError(literal, literal);
    }
    return parsed;
  }

  private withUserAgent(headers: Record<string, string>): Record<string, string> {
    if (this.userAgent === undefined) return headers;
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'user-agent') return headers;
    return { ...headers, 'user-agent': this.userAgent };
  }
}

function makeConnector(allowPrivate: boolean): buildConnector.connector {
  if (allowPrivate) return buildConnector({ timeout: CONNECT_TIMEOUT_MS });
  const connect = buildConnector({ timeout: CONNECT_TIMEOUT_MS, lookup: guardedLookup });
  // A second line of defence for literals: whatever reaches the socket layer is judged again.
  return (options, callback) => {
    const literal = ipLiteral(options.hostname);
    if (literal !== null && isForbiddenAddress(literal)) {
      callback(new DestinationRefusedError(literal, literal, PRIVATE_ADDRESS_REASON), null);
      return;
    }
    connect(options, callback);
  };
}

/**
 * Keeps the first `keep` bytes. The rest is drained while the total stays within DRAIN_LIMIT so the connection can be
 * reused; a bigger body is cut off by destroying the stream (undici then drops the socket), so size never costs memory.
 */
function keepPrefix(body: Dispatcher.ResponseData['body'], keep: number, contentLength: string | string[] | undefined): Promise<Buffer> {
  const declared = typeof contentLength === 'string' ? Number(contentLength) : Number.NaN;
  const oversized = Number.isFinite(declared) && declared > DRAIN_LIMIT;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let seen = 0;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, kept));
    };
    body.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (kept < keep) {
        const piece = chunk.length <= keep - kept ? chunk : chunk.subarray(0, keep - kept);
        chunks.push(piece);
        kept += piece.length;
      }
      if (kept >= keep && (oversized || seen > DRAIN_LIMIT)) {
        finish();
        body.destroy();
      }
    });
    body.on('end', finish);
    // Also receives the abort error caused by our own destroy() after finish(); by then it is ignored.
    body.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
  });
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function classify(err: unknown, timeoutMs: number, host: string): Error {
  const code = errorCode(err);
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new DeliveryTimeoutError(timeoutMs, { cause: err });
  // Bad header names or values are the caller's bug, not the receiver's fault: do not disguise them.
  if (code === 'UND_ERR_INVALID_ARG') return err as Error;
  return new DeliveryConnectionError(`could not deliver to ${host}: ${describe(err, code)}`, { cause: err });
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describe(err: unknown, code: string | undefined): string {
  // With autoSelectFamily every failed address is in an AggregateError whose own message is empty.
  const first = err instanceof AggregateError ? (err.errors[0] as unknown) : undefined;
  const message = err instanceof Error && err.message !== '' ? err.message : first instanceof Error ? first.message : '';
  if (message === '') return code ?? 'connection failed';
  return code !== undefined && !message.includes(code) ? `${code} ${message}` : message;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname || 'invalid url';
  } catch {
    return 'invalid url';
  }
}
