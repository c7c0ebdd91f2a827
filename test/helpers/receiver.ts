import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Responder = (request: Received, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 that records every request; each path can be given its own behaviour. */
export class Receiver {
  readonly received: Received[] = [];
  private readonly responders = new Map<string, Responder>();
  private readonly waiters: Array<{ check: () => boolean; resolve: () => void }> = [];
  private server!: Server;
  url = '';

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    receiver.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request: Received = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        receiver.received.push(request);
        const responder = receiver.responders.get(request.path);
        if (responder) responder(request, res);
        else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        receiver.check();
      });
    });
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    return receiver;
  }

  on(path: string, responder: Responder): void {
    this.responders.set(path, responder);
  }

  at(path: string): Received[] {
    return this.received.filter((request) => request.path === path);
  }

  /** Resolves when `count` requests have reached `path` (any path when omitted). */
  waitFor(count: number, path?: string, timeoutMs = 15_000): Promise<void> {
    const check = () => (path === undefined ? this.received.length : this.at(path).length) >= count;
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} requests on ${path ?? 'any path'} (got ${path === undefined ? this.received.length : this.at(path).length})`)), timeoutMs);
      this.waiters.push({ check, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  private check(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (waiter.check()) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
