import { lookup } from 'node:dns/promises';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hostname } from 'node:os';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryConnectionError, DeliveryTimeoutError, HttpClient } from '../src/delivery/http-client.js';
import { DestinationRefusedError } from '../src/delivery/ssrf.js';

const selfAddress = (await lookup(hostname()).catch(() => null))?.address;

type Seen = { method: string; path: string; headers: IncomingHttpHeaders; body: string };

const routes: Record<string, (res: ServerResponse) => void> = {
  '/ok': (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'),
  '/created': (res) => res.writeHead(201).end(),
  '/gone': (res) => res.writeHead(410).end('gone'),
  '/error': (res) => res.writeHead(503, { 'retry-after': '7' }).end('later'),
  '/redirect': (res) => res.writeHead(302, { location: '/ok' }).end(),
  '/multi': (res) => res.writeHead(200, [['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['X-Custom', 'one'], ['X-Custom', 'two']]).end(),
  '/never': () => undefined,
  '/stall-body': (res) => res.writeHead(200, { 'content-length': '100' }).write('partial'),
  '/big': (res) => res.writeHead(200, { 'content-length': String(1 << 20) }).end(Buffer.alloc(1 << 20, 'a')),
  '/big-chunked': (res) => {
    res.writeHead(200);
    for (let i = 0; i < 64; i++) res.write(Buffer.alloc(16 * 1024, 'b'));
    res.end();
  },
  '/medium': (res) => res.writeHead(200).end(Buffer.alloc(20_000, 'c')),
  '/utf8': (res) => res.writeHead(200).end('é'.repeat(3000)),
};

let server: Server;
let port: number;
let base: string;
let connections = 0;
let seen: Seen[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      (routes[req.url ?? ''] ?? routes['/ok']!)(res);
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  connections = 0;
});

async function withClient<T>(opts: ConstructorParameters<typeof HttpClient>[0], fn: (client: HttpClient) => Promise<T>): Promise<T> {
  const client = new HttpClient(opts);
  return fn(client).finally(() => client.close());
}

const post = (client: HttpClient, url: string, timeoutMs = 5_000, headers: Record<string, string> = {}) =>
  client.post(url, { headers, body: '{}', timeoutMs });


describe('HttpClient', () => {
  it('sends the body and headers exactly, with the default user agent', async () => {
    const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'inv_1', note: 'ünïcødé ✓' } });
    const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'X-Mixed-Case': 'Value' };
    const result = await withClient({ allowPrivate: true, userAgent: 'Hookyard/test' }, async (client) => {
      const first = await client.post(`${base}/ok?x=1&y=two`, { headers, body, timeoutMs: 5_000 });
      await post(client, `${base}/ok`, 5_000, { 'User-Agent': 'Custom/1' });
      return first;
    });
    expect(result).toMatchObject({ statusCode: 200, body: 'ok' });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/ok?x=1&y=two', body });
    expect(seen[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'webhook-id': 'msg_1', 'x-mixed-case': 'Value', 'user-agent': 'Hookyard/test' });
    expect(seen[0]!.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(seen[1]!.headers['user-agent']).toBe('Custom/1');
  });

  it('refuses URLs that are not http(s)', async () => {
    await withClient({ allowPrivate: true }, async (client) => {
      await expect(post(client, 'ftp://example.com/')).rejects.toBeInstanceOf(DestinationRefusedError);
      await expect(post(client, 'not a url')).rejects.toBeInstanceOf(DestinationRefusedError);
    });
  });

  it('returns status codes and flattened lowercase headers', async () => {
    await withClient({ allowPrivate: true }, async (client) => {
      expect((await post(client, `${base}/created`)).statusCode).toBe(201);
      expect(await post(client, `${base}/gone`)).toMatchObject({ statusCode: 410, body: 'gone' });
      expect(await post(client, `${base}/error`)).toMatchObject({ statusCode: 503, body: 'later', headers: { 'retry-after': '7' } });
      const multi = await post(client, `${base}/multi`);
      expect(multi.headers['set-cookie']).toBe('a=1, b=2');
      expect(multi.headers['x-custom']).toBe('one, two');
      for (const name of Object.keys(multi.headers)) expect(name).toBe(name.toLowerCase());
    });
  });

  it('does not follow redirects', async () => {
    const result = await withClient({ allowPrivate: true }, (client) => post(client, `${base}/redirect`));
    expect(result.statusCode).toBe(302);
    expect(result.headers.location).toBe('/ok');
    expect(seen.map((s) => s.path)).toEqual(['/redirect']);
  });

  it('times out when the server never answers', async () => {
    await withClient({ allowPrivate: true }, async (client) => {
      const started = Date.now();
      await expect(post(client, `${base}/never`, 300)).rejects.toMatchObject({ name: 'DeliveryTimeoutError', code: 'timeout' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
      expect(Date.now() - started).toBeLessThan(2_000);
    });
  });

  it('times out when the body stalls after the headers', async () => {
    await withClient({ allowPrivate: true }, async (client) => {
      await expect(post(client, `${base}/stall-body`, 300)).rejects.toBeInstanceOf(DeliveryTimeoutError);
    });
  });

  it('reports a refused connection as a connection error with its cause', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const free = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    await withClient({ allowPrivate: true }, async (client) => {
      const error = await post(client, `http://127.0.0.1:${free}/`).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(DeliveryConnectionError);
      expect(error).toMatchObject({ code: 'connection_error', message: expect.stringMatching(/ECONNREFUSED/), cause: expect.anything() });
    });
  });

  it('reports a TLS failure as a connection error', async () => {
    await withClient({ allowPrivate: true }, async (client) => {
      await expect(post(client, `https://127.0.0.1:${port}/ok`)).rejects.toBeInstanceOf(DeliveryConnectionError);
    });
  });

  it('reports an unresolvable host as a connection error', async () => {
    await withClient({ allowPrivate: false }, async (client) => {
      await expect(post(client, 'http://does-not-exist.invalid/')).rejects.toBeInstanceOf(DeliveryConnectionError);
    });
  });

  it('keeps only the first 4096 bytes of a 1 MB response and resolves', async () => {
    await withClient({ allowPrivate: true }, async (client) => {
      const result = await post(client, `${base}/big`);
      expect(result.statusCode).toBe(200);
      expect(result.body).toBe('a'.repeat(4096));
      const chunked = await post(client, `${base}/big-chunked`);
      expect(chunked.body).toBe('b'.repeat(4096));
      // The client still works; it needs a fresh connection because each cut-off one was dropped, not drained.
      expect((await post(client, `${base}/ok`)).body).toBe('ok');
    });
    expect(connections).toBeGreaterThanOrEqual(3);
  });

  it('honours maxResponseBytes and decodes UTF-8 lossily', async () => {
    const result = await withClient({ allowPrivate: true, maxResponseBytes: 5 }, (client) => post(client, `${base}/utf8`));
    expect(result.body).toBe('éé\uFFFD');
  });

  it('reuses one keep-alive connection for sequential posts, also after draining a medium body', async () => {
    await withClient({ allowPrivate: true }, async (client) => {
      for (let i = 0; i < 50; i++) expect((await post(client, `${base}/${i % 10 === 0 ? 'medium' : 'ok'}`)).statusCode).toBe(200);
    });
    expect(seen).toHaveLength(50);
    // undici waits one event-loop turn before reusing a socket, so a post issued right as the previous one ends may open a second.
    expect(connections).toBeLessThanOrEqual(2);
  });

  it('leaves no timers behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await withClient({ allowPrivate: true }, async (client) => {
      await post(client, `${base}/ok`);
      const before = timers();
      await Promise.all(Array.from({ length: 20 }, () => post(client, `${base}/ok`, 60_000)));
      await post(client, `${base}/never`, 50).catch(() => undefined);
      expect(timers() - before).toBeLessThan(5);
    });
  });

  it("rejects with the caller's abort reason", async () => {
    await withClient({ allowPrivate: true }, async (client) => {
      const controller = new AbortController();
      const pending = client.post(`${base}/never`, { headers: {}, body: '', timeoutMs: 5_000, signal: controller.signal });
      setTimeout(() => controller.abort(new Error('shutting down')), 50);
      await expect(pending).rejects.toThrow('shutting down');
      const aborted = AbortSignal.abort();
      await expect(client.post(`${base}/ok`, { headers: {}, body: '', timeoutMs: 5_000, signal: aborted })).rejects.toMatchObject({ name: 'AbortError' });
    });
  });
});

describe('HttpClient SSRF guard', () => {
  const refusedUrls = () => [
    `http://127.0.0.1:${port}/ok`,
    `http://localhost:${port}/ok`,
    `http://[::1]:${port}/ok`,
    `http://[::ffff:127.0.0.1]:${port}/ok`,
    `http://2130706433:${port}/ok`,
    `http://0x7f.1:${port}/ok`,
  ];

  it('refuses loopback destinations, literal or resolved, and sends nothing', async () => {
    await withClient({ allowPrivate: false }, async (client) => {
      for (const url of refusedUrls()) {
        const error = await post(client, url).catch((err: unknown) => err);
        expect({ url, refused: error instanceof DestinationRefusedError }).toEqual({ url, refused: true });
        expect((error as DestinationRefusedError).code).toBe('destination_refused');
        expect((error as Error).message).not.toContain('/ok');
      }
    });
    expect(connections).toBe(0);
    expect(seen).toHaveLength(0);
  });

  // This machine's own name comes from /etc/hosts, outside any static rule; it only runs where that name means 127.0.0.1.
  it.runIf(selfAddress === '127.0.0.1')('refuses a host name whose DNS answer is loopback, by address', async () => {
    const name = hostname();
    await withClient({ allowPrivate: false }, async (client) => {
      const error = await post(client, `http://${name}:${port}/ok`).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(DestinationRefusedError);
      expect((error as Error).message).toContain('127.0.0.1');
    });
    expect(connections).toBe(0);
    await withClient({ allowPrivate: true }, async (client) => {
      expect((await post(client, `http://${name}:${port}/ok`)).statusCode).toBe(200);
    });
  });

  it('refuses every request queued on a refused origin, in parallel too', async () => {
    await withClient({ allowPrivate: false }, async (client) => {
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => post(client, `http://localhost:${port}/ok`)));
      for (const result of results) {
        expect(result.status).toBe('rejected');
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(DestinationRefusedError);
      }
    });
    expect(connections).toBe(0);
  });

  it('delivers to the same destinations when private destinations are allowed', async () => {
    await withClient({ allowPrivate: true }, async (client) => {
      for (const url of refusedUrls().filter((u) => !u.includes('['))) {
        expect({ url, status: (await post(client, url)).statusCode }).toEqual({ url, status: 200 });
      }
    });
    expect(seen).toHaveLength(4);
  });
});
