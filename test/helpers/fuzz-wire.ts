import { connect } from 'node:net';

/** A small seeded PRNG (mulberry32): the same seed gives the same fuzz cases. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight: `[[weight, value], …]`. */
  weighted<T>(entries: ReadonlyArray<readonly [number, T]>): T {
    let roll = this.next() * entries.reduce((sum, [weight]) => sum + weight, 0);
    for (const [weight, value] of entries) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return entries[entries.length - 1]![1];
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

export interface WireResponse {
  status: number;
  /** Lower-case names; repeated ones joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
}

/** What one raw connection produced: the responses in order, and how the connection ended. */
export interface WireResult {
  responses: WireResponse[];
  /** done: every expected response arrived; closed/reset: the server ended the connection first. */
  end: 'done' | 'closed' | 'reset' | 'timeout';
  error?: string;
}

export interface WireConnection {
  /** Written in order; a pause between pieces splits the request across TCP segments. */
  pieces: Buffer[];
  pauseMs: number;
  /** Half-close after writing (needed when the bytes promise more body than they carry). */
  endAfterWrite: boolean;
  /** One entry per request on the connection: whether it is a HEAD (its response has no body). */
  heads: boolean[];
}

const CRLF2 = Buffer.from('\r\n\r\n');

interface Parsed {
  responses: WireResponse[];
  /** The last response is framed by the connection's end (no length, not chunked). */
  openEnded: WireResponse | null;
}

/** Reads as many complete responses as `data` holds; 1xx interim responses are skipped. */
function parseResponses(data: Buffer, heads: readonly boolean[], atEnd: boolean): Parsed {
  const responses: WireResponse[] = [];
  let offset = 0;
  while (responses.length < heads.length) {
    const headEnd = data.indexOf(CRLF2, offset);
    if (headEnd === -1) break;
    const [statusLine = '', ...lines] = data.subarray(offset, headEnd).toString('latin1').split('\r\n');
    const match = /^HTTP\/\d\.\d (\d{3})/.exec(statusLine);
    if (match === null) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine.slice(0, 80))}`);
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const bodyStart = headEnd + 4;
    if (status >= 100 && status < 200) {
      offset = bodyStart;
      continue;
    }
    const bodyless = heads[responses.length] === true || status === 204 || status === 304;
    const framed = frameBody(data, bodyStart, bodyless ? '0' : headers['content-length'], headers['transfer-encoding']);
    if (framed === 'open') {
      const response = { status, headers, body: data.subarray(bodyStart) };
      if (atEnd) responses.push(response);
      return { responses, openEnded: response };
    }
    if (framed === null) break;
    responses.push({ status, headers, body: framed.body });
    offset = framed.next;
  }
  return { responses, openEnded: null };
}

/** The body after `start`: null when not all there yet, 'open' when only the connection's end delimits it. */
function frameBody(data: Buffer, start: number, contentLength: string | undefined, transferEncoding: string | undefined): { body: Buffer; next: number } | null | 'open' {
  if (transferEncoding !== undefined && /chunked/i.test(transferEncoding)) {
    const parts: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = data.indexOf('\r\n', at);
      if (lineEnd === -1) return null;
      const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        const trailerEnd = data.indexOf(CRLF2, lineEnd);
        return trailerEnd === -1 ? null : { body: Buffer.concat(parts), next: trailerEnd + 4 };
      }
      if (data.length < lineEnd + 2 + size + 2) return null;
      parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  if (contentLength === undefined) return 'open';
  const length = Number(contentLength);
  return data.length < start + length ? null : { body: data.subarray(start, start + length), next: start + length };
}

/**
 * Sends raw bytes to the server over one TCP connection and reads the responses, whatever the bytes are. Never
 * hangs: after `timeoutMs` the connection is destroyed and the result says 'timeout'.
 */
export function wireExchange(port: number, connection: WireConnection, timeoutMs: number): Promise<WireResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (end: WireResult['end'], error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      let parsed: Parsed;
      try {
        parsed = parseResponses(Buffer.concat(chunks), connection.heads, true);
      } catch (err) {
        resolve({ responses: [], end, error: (err as Error).message });
        return;
      }
      resolve({ responses: parsed.responses, end, ...(error === undefined ? {} : { error }) });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      try {
        const parsed = parseResponses(Buffer.concat(chunks), connection.heads, false);
        if (parsed.responses.length === connection.heads.length) finish('done');
      } catch (err) {
        finish('closed', (err as Error).message);
      }
    });
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    // A reset after the server answered (it refuses to read an oversized body) still leaves the answer readable.
    socket.on('error', (err: NodeJS.ErrnoException) => finish('reset', err.code ?? err.message));
    socket.once('connect', () => void writePieces());

    async function writePieces(): Promise<void> {
      for (const [index, piece] of connection.pieces.entries()) {
        if (settled) return;
        if (index > 0 && connection.pauseMs > 0) await new Promise((r) => setTimeout(r, connection.pauseMs));
        if (settled) return;
        const drained = socket.write(piece);
        if (!drained) await new Promise<void>((r) => {
          socket.once('drain', r);
          socket.once('close', r);
        });
      }
      if (connection.endAfterWrite && !settled) socket.end();
    }
  });
}
