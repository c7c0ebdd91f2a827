import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { DestinationRefusedError, isForbiddenAddress } from './ssrf.js';

export interface HttpClientOptions {
  allowPrivate: boolean;
  userAgent?: string;
  /** How much of a response body is kept (default 4096 bytes). */
  maxResponseBytes?: number;
}

export interface PostResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  durationMs: number;
}

export class DeliveryTimeoutError extends Error {
  readonly code = 'timeout';
  constructor(ms: number) {
    super(`no complete response within ${ms} ms`);
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

// Beyond this, a response body is not drained for keep-alive: the socket is dropped instead.
const DRAIN_LIMIT = 64 * 1024;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Resolves like dns.lookup, then refuses the connection when any resolved address is forbidden. net.connect connects
 * to exactly the addresses returned here, so the checked address is the connected one (no DNS rebinding window).
 */
function guardedLookup(hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const refused = addresses.find((entry) => isForbiddenAddress(entry.address));
    if (refused) return callback(new DestinationRefusedError(hostname, refused.address) as NodeJS.ErrnoException, []);
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
}

/** The outbound client for webhook deliveries: one keep-alive pool per origin, no redirects, SSRF guard at connect. */
export class HttpClient {
  private readonly agent: Agent;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: HttpClientOptions) {
    this.maxResponseBytes = options.maxResponseBytes ?? 4096;
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      pipelining: 1,
      connect: options.allowPrivate ? { timeout: 10_000 } : { timeout: 10_000, lookup: guardedLookup as never },
    });
  }

  async post(url: string, init: { headers: Record<string, string>; body: string; timeoutMs: number; signal?: AbortSignal }): Promise<PostResult> {
    const started = performance.now();
    if (!this.options.allowPrivate) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) !== 0 && isForbiddenAddress(host)) throw new DestinationRefusedError(host, host);
    }
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, init.timeoutMs);
    const onAbort = () => controller.abort();
    init.signal?.addEventListener('abort', onAbort, { once: true });
    if (init.signal?.aborted) controller.abort();

    try {
      const headers = { ...init.headers };
      if (this.options.userAgent && !Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent')) headers['user-agent'] = this.options.userAgent;
      const response = await request(url, {
        method: 'POST',
        headers,
        body: init.body,
        signal: controller.signal,
        dispatcher: this.agent,
        headersTimeout: init.timeoutMs,
        bodyTimeout: init.timeoutMs,
      });
      const kept: Buffer[] = [];
      let keptBytes = 0;
      let total = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (keptBytes < this.maxResponseBytes) {
          const piece = chunk.subarray(0, this.maxResponseBytes - keptBytes);
          kept.push(piece);
          keptBytes += piece.length;
        }
        if (total > DRAIN_LIMIT) {
          response.body.destroy();
          break;
        }
      }
      return {
        statusCode: response.statusCode,
        headers: flattenHeaders(response.headers),
        body: Buffer.concat(kept).toString('utf8'),
        durationMs: performance.now() - started,
      };
    } catch (err) {
      if (timedOut) throw new DeliveryTimeoutError(init.timeoutMs);
      const refused = findInChain(err, (e) => e instanceof DestinationRefusedError);
      if (refused) throw refused;
      if (init.signal?.aborted) throw err;
      const code = findInChain(err, (e) => typeof (e as { code?: unknown }).code === 'string') as { code?: string } | undefined;
      if (code?.code === 'UND_ERR_HEADERS_TIMEOUT' || code?.code === 'UND_ERR_BODY_TIMEOUT') throw new DeliveryTimeoutError(init.timeoutMs);
      throw new DeliveryConnectionError(`${code?.code ?? 'error'}: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
      init.signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function findInChain(err: unknown, test: (e: object) => boolean): object | undefined {
  for (let current = err, depth = 0; current && typeof current === 'object' && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (test(current)) return current;
  }
  return undefined;
}
