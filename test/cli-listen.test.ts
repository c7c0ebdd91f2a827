import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestHookyard, type TestHookyard } from './helpers/hookyard.js';

const BIN = fileURLToPath(new URL('../bin/hookyard.js', import.meta.url));

interface Got {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The n-th test request: JSON, form, text and binary bodies, with a header of its own. */
function requestBody(n: number): { body: Buffer; type: string } {
  switch (n % 4) {
    case 0: return { body: Buffer.from(JSON.stringify({ n, text: 'héllo ✓' })), type: 'application/json' };
    case 1: return { body: Buffer.from(`n=${n}&a=1&a=2`), type: 'application/x-www-form-urlencoded' };
    case 2: return { body: Buffer.from(`plain text ${n}\r\n`), type: 'text/plain' };
    default: return { body: Buffer.from([n & 0xff, 0, 0xff, 0xfe, 0x80, n >> 8]), type: 'application/octet-stream' };
  }
}

describe('hookyard listen', () => {
  let hy: TestHookyard;
  let target: Server;
  let targetUrl: string;
  const got: Got[] = [];
  let listen: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    hy = await startTestHookyard();
    expect((await hy.api('POST', '/api/v1/sources', { name: 'dev', methods: ['POST', 'PUT'] })).status).toBe(201);
    target = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        got.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    listen?.kill('SIGKILL');
    await hy?.stop();
    await new Promise((resolve) => target?.close(resolve));
  });

  const startListen = async () => {
    output = '';
    listen = spawn(process.execPath, [BIN, 'listen', 'dev', '--forward', `${targetUrl}/hook`, '--server', hy.url, '--token', ADMIN_TOKEN, '--state', join(hy.dir, 'listen-state.json')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    listen.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    listen.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 15_000;
    while (!output.includes('connected to')) {
      if (Date.now() > deadline) throw new Error(`listen did not connect:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const stopListen = async () => {
    const exited = new Promise((resolve) => listen!.once('exit', resolve));
    listen!.kill('SIGTERM');
    await exited;
  };
  const sendRange = async (from: number, to: number) => {
    for (let n = from; n < to; n++) {
      const { body, type } = requestBody(n);
      const res = await fetch(`${hy.url}/in/dev${n % 5 === 0 ? '/orders/7?x=1&x=2' : ''}`, {
        method: n % 7 === 0 ? 'PUT' : 'POST',
        headers: { 'content-type': type, 'x-n': String(n), 'x-signature': `sig-${n}` },
        body,
      });
      expect(res.status).toBe(202);
    }
  };
  const waitForTarget = async (count: number) => {
    const deadline = Date.now() + 20_000;
    while (got.length < count) {
      if (Date.now() > deadline) throw new Error(`target got ${got.length} of ${count}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  it('replays 100 requests byte-identical with their headers, including those sent while it was stopped', async () => {
    await startListen();
    await sendRange(0, 50);
    await waitForTarget(50);
    expect(output).toMatch(/POST \/ → 204 \(\d+ ms\) req_/);
    await stopListen();

    // Sent while nobody listens: the next listen resumes after the last request it handled.
    await sendRange(50, 100);
    await startListen();
    await waitForTarget(100);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stopListen();

    expect(got).toHaveLength(100);
    got.forEach((request, n) => {
      const { body, type } = requestBody(n);
      expect(request.headers['x-n']).toBe(String(n));
      expect(request.body.equals(body)).toBe(true);
      expect(request.headers['content-type']).toBe(type);
      expect(request.headers['x-signature']).toBe(`sig-${n}`);
      expect(request.headers['x-hookyard-request-id']).toMatch(/^req_/);
      expect(request.method).toBe(n % 7 === 0 ? 'PUT' : 'POST');
      expect(request.url).toBe(n % 5 === 0 ? '/hook/orders/7?x=1&x=2' : '/hook');
    });
  }, 60_000);

  it('tells a wrong token or an unknown source in one line and exits 1', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
    const wrongToken = await run(['listen', 'dev', '--forward', targetUrl, '--server', hy.url, '--token', 'nope-nope-nope-nope']);
    expect(wrongToken).toMatchObject({ code: 1 });
    expect(wrongToken.stderr).toMatch(/^hookyard: 401 unauthorized/);
    const unknown = await run(['tail', 'no-such-source', '--server', hy.url, '--token', ADMIN_TOKEN]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('404 not_found');
  });

  it('sends a message with `hookyard send`', async () => {
    const app = await hy.api('POST', '/api/v1/apps', { name: 'cli', uid: 'cli-app' });
    const child = spawn(process.execPath, [BIN, 'send', 'cli-app', 'order.created', '{"id":1}', '--server', hy.url, '--token', ADMIN_TOKEN], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
    const id = stdout.trim();
    expect(id).toMatch(/^msg_/);
    expect((await hy.api('GET', `/api/v1/apps/${app.body.id}/messages/${id}`)).body).toMatchObject({ eventType: 'order.created', payload: { id: 1 } });
  });
});
