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
  /** Absent: no body (a GET). */
  body: string | undefined;
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

interface Target {
  origin: string;
  path: string;
  hostname: string;
}

// Endpoint URLs whose parse and static check are kept (a worker sends to the same few over and over).
const TARGET_CACHE_SIZE = 10_000;
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
  private readonly targets = new Map<string, Target>();
  private readonly followed = new WeakMap<AbortSignal, Set<Attempt>>();

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
  post(url: string, init: PostInit): Promise<PostResult> {
    return this.send('POST', url, init);
  }

  /** A request with any method, under the same guard and limits as a delivery (a workflow's http-request node). */
  async send(method: string, url: string, init: PostInit): Promise<PostResult> {
    const started = performance.now();
    const target = this.target(url);
    const outer = init.signal;
    if (outer?.aborted) throw abortReason(outer);
    if (!(init.timeoutMs > 0)) throw new RangeError('timeoutMs must be a positive number');

    const attempt = new Attempt(this.maxResponseBytes, init.timeoutMs, target.hostname, outer);
    const callers = outer ? this.follow(outer) : undefined;
    callers?.add(attempt);
    try {
      // dispatch with a handler of our own, not request(): no response stream, no promise per chunk, no signal
      // bookkeeping (one of the changes that took the worker's CPU per delivery down by ~15-20%, bench/README).
      this.agent.dispatch(
        { origin: target.origin, path: target.path, method, headers: this.withUserAgent(init.headers), body: init.body ?? null },
        attempt,
      );
      const { statusCode, rawHeaders, body } = await attempt.result;
      let headers: Record<string, string> | undefined;
      return {
        statusCode,
        // Parsed when read: the worker looks at them only for a 429 or 503's Retry-After.
        get headers() {
          return (headers ??= parseRawHeaders(rawHeaders));
        },
        body,
        durationMs: performance.now() - started,
      };
    } finally {
      callers?.delete(attempt);
    }
  }

  /**
   * The attempts in flight on behalf of a caller's signal: one listener per signal (not one per attempt) aborts them
   * all with its reason.
   */
  private follow(signal: AbortSignal): Set<Attempt> {
    let attempts = this.followed.get(signal);
    if (attempts === undefined) {
      const set = new Set<Attempt>();
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

  /** Where a URL sends to, judged once per URL text: the judgement depends on the text alone. */
  private target(url: string): Target {
    const known = this.targets.get(url);
    if (known) return known;
    // Host names pass the static check here on purpose: they are judged by the connect-time lookup, on the address used.
    const verdict = checkDestinationUrl(url, true);
    if (!verdict.ok) throw new DestinationRefusedError(hostOf(url), null, verdict.reason);
    const parsed = verdict.url;
    if (!this.allowPrivate) {
      // Node never calls `lookup` for an IP literal, so literals are judged before anything is sent.
      const literal = ipLiteral(parsed.hostname);
      if (literal !== null && isForbiddenAddress(literal)) throw new DestinationRefusedError(literal, literal);
    }
    const target = { origin: parsed.origin, path: parsed.pathname + parsed.search, hostname: parsed.hostname };
    if (this.targets.size >= TARGET_CACHE_SIZE) this.targets.clear();
    this.targets.set(url, target);
    return target;
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
 * One attempt's handler for undici's dispatch (the callback form undici runs natively). It keeps the first
 * `keep` bytes of the body; the rest is drained while the total stays within DRAIN_LIMIT so the connection can be reused,
 * and a bigger body is cut off by aborting (undici then drops the socket), so size never costs memory. Its timer covers
 * the whole exchange, queueing for a connection included.
 */
class Attempt implements Dispatcher.DispatchHandler {
  readonly result: Promise<{ statusCode: number; rawHeaders: Buffer[]; body: string }>;
  private resolve!: (value: { statusCode: number; rawHeaders: Buffer[]; body: string }) => void;
  private reject!: (reason: unknown) => void;
  private settled = false;
  /** undici's abort of this request, once it is on a connection. */
  private abortRequest: ((reason: Error) => void) | null = null;
  /** Why the request must stop, if that was decided before it reached a connection. */
  private stopReason: Error | null = null;
  private readonly timer: NodeJS.Timeout;
  private statusCode = 0;
  private rawHeaders: Buffer[] = [];
  private chunks: Buffer[] = [];
  private kept = 0;
  private seen = 0;
  private oversized = false;

  constructor(
    private readonly keep: number,
    private readonly timeoutMs: number,
    private readonly host: string,
    private readonly outer: AbortSignal | undefined,
  ) {
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.timer = setTimeout(() => this.abort(new DeliveryTimeoutError(timeoutMs)), Math.min(timeoutMs, MAX_TIMER_MS));
  }

  /** Ends the attempt now with `reason` (a timeout, or the caller's abort) and stops the request wherever it is. */
  abort(reason: unknown): void {
    this.fail(reason);
    const error = reason instanceof Error ? reason : new Error(String(reason));
    if (this.abortRequest) this.abortRequest(error);
    else this.stopReason = error;
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.stopReason) abort(this.stopReason);
    else this.abortRequest = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], _resume: () => void): boolean {
    // 1xx informational responses come before the real one.
    if (statusCode < 200) return true;
    this.statusCode = statusCode;
    this.rawHeaders = rawHeaders;
    this.oversized = declaredLength(rawHeaders) > DRAIN_LIMIT;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.seen += chunk.length;
    if (this.kept < this.keep) {
      const piece = chunk.length <= this.keep - this.kept ? chunk : chunk.subarray(0, this.keep - this.kept);
      this.chunks.push(piece);
      this.kept += piece.length;
    }
    if (this.kept >= this.keep && (this.oversized || this.seen > DRAIN_LIMIT)) {
      this.succeed();
      this.abortRequest?.(new Error('response body past the drain limit'));
      return false;
    }
    return true;
  }

  onComplete(): void {
    this.succeed();
  }

  onError(err: Error): void {
    if (this.outer?.aborted) this.fail(abortReason(this.outer));
    else this.fail(err instanceof DestinationRefusedError ? err : classify(err, this.timeoutMs, this.host));
  }

  private succeed(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve({ statusCode: this.statusCode, rawHeaders: this.rawHeaders, body: Buffer.concat(this.chunks, this.kept).toString('utf8') });
  }

  private fail(reason: unknown): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.reject(reason);
  }
}

/** The Content-Length a response declares, NaN without one. */
function declaredLength(raw: Buffer[]): number {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length === 14 && raw[i]!.toString('latin1').toLowerCase() === 'content-length') return Number(raw[i + 1]!.toString('latin1'));
  }
  return Number.NaN;
}

/** undici's raw headers (name, value, name, value …) as lower-case names; repeated ones joined with ", ". */
function parseRawHeaders(raw: Buffer[]): Record<string, string> {
  // No prototype: a header named __proto__ is just a header.
  const out = Object.create(null) as Record<string, string>;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
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
