import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { REPEATABLE_NODE_TYPES } from '../src/workflows/nodes.js';
import { startTestHookyard, type TestHookyard } from './helpers/hookyard.js';
import { createSchema, describePg } from './helpers/postgres.js';
import { Receiver } from './helpers/receiver.js';
import { waitFor } from './helpers/wait.js';

const SECRET_KEY = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

interface Mail {
  from: string;
  to: string[];
  data: string;
}

/** A real SMTP server on 127.0.0.1 that keeps every message it accepts. */
async function startSmtp(): Promise<{ url: string; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (chunk: Buffer) => (data += chunk.toString()));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

type Env = { env: Record<string, string>; drop(): Promise<void> };

function workflowSuite(name: string, makeEnv: () => Promise<Env>): void {
  describe(`workflows: ${name}`, () => {
    let hy: TestHookyard;
    let receiver: Receiver;
    let smtp: Awaited<ReturnType<typeof startSmtp>>;
    let drop: () => Promise<void>;
    let count = 0;

    beforeAll(async () => {
      const made = await makeEnv();
      drop = made.drop;
      receiver = await Receiver.start();
      smtp = await startSmtp();
      hy = await startTestHookyard({
        ...made.env,
        HOOKYARD_SMTP_URL: smtp.url,
        HOOKYARD_WORKFLOW_ENV: 'WF_TEST_TOKEN,WF_TEST_UNSET',
        WF_TEST_TOKEN: 'token-from-env',
        HOOKYARD_SYNC_RESPONSE_TIMEOUT_MS: '1500',
      });
    });
    afterAll(async () => {
      await hy?.stop();
      await receiver?.close();
      await smtp?.close();
      await drop?.();
    });

    const source = async (extra: Record<string, unknown> = {}): Promise<string> => {
      const sourceName = `wf-src-${++count}`;
      const created = await hy.api('POST', '/api/v1/sources', { name: sourceName, ...extra });
      expect(created.status).toBe(201);
      return sourceName;
    };
    const workflow = async (body: Record<string, unknown>) => {
      const created = await hy.api('POST', '/api/v1/workflows', { key: `wf-${++count}`, ...body });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body as { id: string; key: string; version: number };
    };
    const send = (sourceName: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${hy.url}/in/${sourceName}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const finished = async (workflowId: string, requestId: string) => {
      const list = await waitFor(
        () => hy.api('GET', `/api/v1/workflows/${workflowId}/executions?requestId=${requestId}`),
        (r) => r.body.data.length > 0 && ['succeeded', 'failed'].includes(r.body.data[0].status),
      );
      const execution = await hy.api('GET', `/api/v1/workflows/${workflowId}/executions/${list.body.data[0].id}`);
      return execution.body;
    };

    it('runs condition → create → http-request with templates that keep their types', async () => {
      const src = await source();
      receiver.on('/erp', (_req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ erpId: 'E-1' })));
      const wf = await workflow({
        trigger: { type: 'webhook', source: src },
        nodes: [
          { key: 'big', type: 'condition', config: { expression: '$context.data.amount > 100' }, then: 'save', else: null },
          { key: 'save', type: 'create', config: { collection: 'invoices', values: { amount: '{{$context.data.amount}}', label: 'inv {{$context.data.id}}', tags: '{{$context.data.tags}}', missing: '{{$context.data.nope.deeper}}' } }, next: 'erp' },
          { key: 'erp', type: 'http-request', config: { url: `${receiver.url}/erp`, headers: { authorization: 'Bearer {{$env.WF_TEST_TOKEN}}' }, body: { invoice: '{{$jobsMapByNodeKey.save._id}}', amount: '{{$jobsMapByNodeKey.save.amount}}', unset: '{{$env.WF_TEST_UNSET}}' } } },
        ],
      });
      const sent = await send(src, { id: 'in_1', amount: 150, tags: ['a', 'b'] });
      expect(sent.status).toBe(202);
      const { id: requestId } = (await sent.json()) as { id: string };
      const execution = await finished(wf.id, requestId);
      expect(execution.status).toBe('succeeded');
      expect(execution.jobs.map((job: { nodeKey: string; status: string }) => `${job.nodeKey}:${job.status}`)).toEqual(['big:succeeded', 'save:succeeded', 'erp:succeeded']);
      const saved = execution.jobs[1].output;
      expect(saved).toMatchObject({ amount: 150, label: 'inv in_1', tags: ['a', 'b'], missing: null });
      const call = receiver.received.find((r) => r.path === '/erp')!;
      expect(call.headers.authorization).toBe('Bearer token-from-env');
      expect(JSON.parse(call.body)).toEqual({ invoice: saved._id, amount: 150, unset: null });
      expect(execution.jobs[2].output).toMatchObject({ status: 201, body: { erpId: 'E-1' } });
      // The credential is not in the recorded input.
      expect(execution.jobs[2].input.headers.authorization).toBe('[redacted]');
    });

    it('takes the else branch and ends the path there', async () => {
      const src = await source();
      const wf = await workflow({
        trigger: { type: 'webhook', source: src },
        nodes: [
          { key: 'check', type: 'condition', config: { expression: '$context.data.amount > 100' }, then: 'big', else: 'small' },
          { key: 'big', type: 'set', config: { values: { size: 'big' } } },
          { key: 'small', type: 'set', config: { values: { size: 'small', double: { expression: '$context.data.amount * 2' } } } },
        ],
      });
      const sent = await send(src, { amount: 7 });
      const execution = await finished(wf.id, ((await sent.json()) as { id: string }).id);
      expect(execution.jobs.map((job: { nodeKey: string }) => job.nodeKey)).toEqual(['check', 'small']);
      expect(execution.jobs[0].output).toEqual({ result: false });
      expect(execution.jobs[1].output).toEqual({ size: 'small', double: 14 });
    });

    it('refuses bad definitions with a 422 that names the node', async () => {
      const src = await source();
      const base = { key: `bad-${++count}`, trigger: { type: 'webhook', source: src } };
      const cases: Array<[unknown[], RegExp]> = [
        [[{ key: 'a', type: 'teleport', config: {} }], /node "a": unknown node type "teleport"/],
        [[{ key: 'a', type: 'set', config: { values: { x: 1 } }, next: 'ghost' }], /node "a": next names "ghost"/],
        [[{ key: 'a', type: 'set', config: { values: { x: 1 } }, next: 'b' }, { key: 'b', type: 'set', config: { values: { x: 1 } }, next: 'a' }], /may not loop/],
        [[{ key: 'a', type: 'set', config: { values: { x: '{{$context.data.__proto__.polluted}}' } } }], /node "a": .*"__proto__" is not allowed/],
        [[{ key: 'a', type: 'set', config: { values: { x: '{{$secrets.x}}' } } }], /node "a": .*unknown variable "\$secrets"/],
        [[{ key: 'a', type: 'condition', config: { expression: '$context.data.amount >' } }], /node "a": /],
        [[{ key: 'a', type: 'condition', config: { expression: '$context.constructor == 1' } }], /node "a": "constructor" is not allowed/],
        [[{ key: 'a', type: 'http-request', config: { url: 'ftp://x' } }], /node "a": url is an http\(s\) URL/],
        [[{ key: 'a', type: 'code', config: { source: 'return (' } }], /node "a": does not parse/],
        [[{ key: 'a', type: 'set', config: { values: { x: 1 } } }, { key: 'b', type: 'set', config: { values: { x: 1 } } }], /node "b": no path from the first node/],
      ];
      for (const [nodes, message] of cases) {
        const response = await hy.api('POST', '/api/v1/workflows', { ...base, nodes });
        expect(response.status, JSON.stringify(nodes)).toBe(422);
        expect(response.body.code).toBe('validation_error');
        expect(response.body.message).toMatch(message);
      }
      const noSource = await hy.api('POST', '/api/v1/workflows', { ...base, trigger: { type: 'webhook', source: 'nope' }, nodes: [{ key: 'a', type: 'end' }] });
      expect(noSource.status).toBe(422);
      expect(noSource.body.message).toMatch(/no source named "nope"/);
    });

    it('keeps the version an execution ran when the workflow is edited', async () => {
      const src = await source();
      const wf = await workflow({ trigger: { type: 'webhook', source: src }, nodes: [{ key: 'v', type: 'set', config: { values: { v: 1 } } }] });
      // No execution yet: edited in place.
      const inPlace = await hy.api('PATCH', `/api/v1/workflows/${wf.key}`, { nodes: [{ key: 'v', type: 'set', config: { values: { v: 'one' } } }] });
      expect(inPlace.body.version).toBe(1);
      const sent = await send(src, {});
      const first = await finished(wf.id, ((await sent.json()) as { id: string }).id);
      expect(first.version).toBe(1);
      const edited = await hy.api('PATCH', `/api/v1/workflows/${wf.id}`, { nodes: [{ key: 'v', type: 'set', config: { values: { v: 2 } } }] });
      expect(edited.status).toBe(200);
      expect(edited.body.version).toBe(2);
      const old = await hy.api('GET', `/api/v1/workflows/${wf.id}/versions/1`);
      expect(old.body.nodes[0].config.values.v).toBe('one');
      // The source cache on this node dropped the old definition at once.
      const second = await finished(wf.id, ((await (await send(src, {})).json()) as { id: string }).id);
      expect(second.version).toBe(2);
      expect(second.jobs[0].output).toEqual({ v: 2 });
      const versions = await hy.api('GET', `/api/v1/workflows/${wf.id}/versions`);
      expect(versions.body.data.map((v: { version: number }) => v.version)).toEqual([1, 2]);
      // A rename or disable is no new version.
      const renamed = await hy.api('PATCH', `/api/v1/workflows/${wf.id}`, { name: 'renamed', enabled: false });
      expect(renamed.body).toMatchObject({ name: 'renamed', enabled: false, version: 2 });
    });

    it('answers a sync-mode sender from the respond node, and falls back to 202 after the timeout', async () => {
      const src = await source();
      await workflow({
        trigger: { type: 'webhook', source: src },
        mode: 'sync',
        nodes: [
          { key: 'save', type: 'create', config: { collection: 'orders', values: { order: '{{$context.data.order}}' } }, next: 'answer' },
          { key: 'answer', type: 'respond', config: { status: 201, headers: { 'x-record': '{{$jobsMapByNodeKey.save._id}}' }, body: { id: '{{$jobsMapByNodeKey.save._id}}', order: '{{$context.data.order}}' } }, next: 'later' },
          { key: 'later', type: 'delay', config: { ms: 50 } },
        ],
      });
      const answered = await send(src, { order: 42 });
      expect(answered.status).toBe(201);
      const body = (await answered.json()) as { id: string; order: number };
      expect(body.order).toBe(42);
      expect(answered.headers.get('x-record')).toBe(body.id);

      const slow = await source();
      receiver.on('/slow', (_req, res) => setTimeout(() => res.writeHead(200).end('late'), 2_500));
      const wf = await workflow({
        trigger: { type: 'webhook', source: slow },
        mode: 'sync',
        response: { status: 200, body: { done: true } },
        nodes: [{ key: 'call', type: 'http-request', config: { url: `${receiver.url}/slow`, method: 'GET' } }],
      });
      const started = Date.now();
      const late = await send(slow, {});
      expect(late.status).toBe(202);
      expect(Date.now() - started).toBeLessThan(2_400);
      const { id } = (await late.json()) as { id: string };
      const execution = await finished(wf.id, id);
      expect(execution.status).toBe('succeeded');
      const quick = await source();
      await workflow({ trigger: { type: 'webhook', source: quick }, mode: 'sync', response: { status: 200, body: { got: '{{$context.data.n}}' } }, nodes: [{ key: 'x', type: 'set', config: { values: { a: 1 } } }] });
      const fixed = await send(quick, { n: 5 });
      expect(fixed.status).toBe(200);
      expect(await fixed.json()).toEqual({ got: 5 });
      // A header a template filled with a line break cannot be written: the sender gets a 502 that says so.
      const broken = await source();
      await workflow({ trigger: { type: 'webhook', source: broken }, mode: 'sync', nodes: [{ key: 'answer', type: 'respond', config: { status: 200, headers: { 'x-note': '{{$context.data.note}}' }, body: 'ok' } }] });
      const refused = await send(broken, { note: 'one\r\nset-cookie: evil=1' });
      expect(refused.status).toBe(502);
      expect(refused.headers.get('set-cookie')).toBeNull();
      expect(await refused.json()).toMatchObject({ code: 'workflow_failed', message: expect.stringMatching(/invalid header "x-note"/) });
      expect((await send(broken, { note: 'fine' })).headers.get('x-note')).toBe('fine');
    });

    it('retries a failed execution from the failed node without running the earlier ones again', async () => {
      const src = await source();
      let fail = true;
      receiver.on('/flaky', (_req, res) => res.writeHead(fail ? 500 : 200, { 'content-type': 'application/json' }).end('{"ok":true}'));
      const wf = await workflow({
        trigger: { type: 'webhook', source: src },
        nodes: [
          { key: 'save', type: 'create', config: { collection: 'retry-docs', values: { n: '{{$context.data.n}}' } }, next: 'call' },
          { key: 'call', type: 'http-request', config: { url: `${receiver.url}/flaky`, retry: { attempts: 1, delayMs: 10 } } },
        ],
      });
      const sent = await send(src, { n: 1 });
      const { id } = (await sent.json()) as { id: string };
      const failed = await finished(wf.id, id);
      expect(failed.status).toBe('failed');
      expect(failed.currentNode).toBe('call');
      expect(failed.error).toMatch(/node "call" \(http-request\): POST .* answered 500/);
      expect(failed.jobs[1].output).toMatchObject({ status: 500, attempts: 2 });
      fail = false;
      const retried = await hy.api('POST', `/api/v1/workflows/${wf.id}/executions/${failed.id}/retry`);
      expect(retried.status).toBe(202);
      const done = await waitFor(() => hy.api('GET', `/api/v1/workflows/${wf.id}/executions/${failed.id}`), (r) => r.body.status === 'succeeded');
      expect(done.body.jobs.map((job: { nodeKey: string; status: string }) => `${job.nodeKey}:${job.status}`)).toEqual(['save:succeeded', 'call:failed', 'call:succeeded']);
      const again = await hy.api('POST', `/api/v1/workflows/${wf.id}/executions/${failed.id}/retry`);
      expect(again.status).toBe(409);
    });

    it('sleeps through a delay node durably and then goes on', async () => {
      const src = await source();
      const wf = await workflow({
        trigger: { type: 'webhook', source: src },
        nodes: [{ key: 'wait', type: 'delay', config: { ms: 300 }, next: 'after' }, { key: 'after', type: 'set', config: { values: { woke: true } } }],
      });
      const { id } = (await (await send(src, {})).json()) as { id: string };
      const waiting = await waitFor(() => hy.api('GET', `/api/v1/workflows/${wf.id}/executions?requestId=${id}`), (r) => r.body.data[0]?.status === 'waiting');
      expect(waiting.body.data[0].wakeAt).toBeGreaterThan(Date.now() - 50);
      const execution = await finished(wf.id, id);
      expect(execution.status).toBe('succeeded');
      expect(execution.jobs.map((job: { nodeKey: string; status: string }) => `${job.nodeKey}:${job.status}`)).toEqual(['wait:succeeded', 'after:succeeded']);
      expect(execution.jobs[0].durationMs).toBeGreaterThanOrEqual(250);
    });

    it('emits a message, posts to a Slack-style webhook and sends e-mail over SMTP', async () => {
      const app = await hy.api('POST', '/api/v1/apps', { name: 'wf-app', uid: `wf-app-${++count}` });
      expect(app.status).toBe(201);
      const src = await source();
      const wf = await workflow({
        trigger: { type: 'webhook', source: src },
        nodes: [
          { key: 'msg', type: 'emit', config: { app: app.body.uid, eventType: 'order.created', payload: { order: '{{$context.data.order}}' } }, next: 'slack' },
          { key: 'slack', type: 'notify', config: { channel: 'slack', url: `${receiver.url}/slack`, text: 'order {{$context.data.order}} ({{$jobsMapByNodeKey.msg.id}})' }, next: 'mail' },
          { key: 'mail', type: 'notify', config: { channel: 'email', to: 'ops@example.com', subject: 'Order {{$context.data.order}}', text: 'Total {{$context.data.total}}' } },
        ],
      });
      const { id } = (await (await send(src, { order: 'A7', total: 12.5 })).json()) as { id: string };
      const execution = await finished(wf.id, id);
      expect(execution.status, JSON.stringify(execution.jobs)).toBe('succeeded');
      const messageId = execution.jobs[0].output.id;
      const message = await hy.api('GET', `/api/v1/apps/${app.body.id}/messages/${messageId}`);
      expect(message.body).toMatchObject({ eventType: 'order.created', payload: { order: 'A7' } });
      const slack = receiver.received.find((r) => r.path === '/slack')!;
      expect(JSON.parse(slack.body)).toEqual({ text: `order A7 (${messageId})` });
      const mail = smtp.mails.find((m) => m.data.includes('Subject: Order A7'))!;
      expect(mail.to).toEqual(['ops@example.com']);
      expect(mail.data).toContain('Total 12.5');
    });

    it('runs code with a time and a memory limit while the server keeps answering', async () => {
      const src = await source();
      const wf = await workflow({
        trigger: { type: 'webhook', source: src },
        nodes: [{ key: 'calc', type: 'code', config: { source: 'const b = await Promise.resolve($context.data.b); return { sum: $context.data.a + b, env: typeof process, req: typeof require }' } }],
      });
      const ok = await finished(wf.id, ((await (await send(src, { a: 2, b: 3 })).json()) as { id: string }).id);
      expect(ok.jobs[0].output).toEqual({ sum: 5, env: 'undefined', req: 'undefined' });

      const loop = await source();
      const looping = await workflow({ trigger: { type: 'webhook', source: loop }, nodes: [{ key: 'spin', type: 'code', config: { source: 'while (true) {}', timeoutMs: 1500 } }] });
      const { id: loopId } = (await (await send(loop, {})).json()) as { id: string };
      // While the loop spins, the server answers other requests promptly.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        const health = await fetch(`${hy.url}/health`);
        expect(health.status).toBe(200);
        expect(Date.now() - started).toBeLessThan(500);
      }
      const spun = await finished(looping.id, loopId);
      expect(spun.status).toBe('failed');
      expect(spun.error).toMatch(/time limit of 1500 ms/);

      const hog = await source();
      const hogging = await workflow({ trigger: { type: 'webhook', source: hog }, nodes: [{ key: 'eat', type: 'code', config: { source: 'const a = []; for (;;) a.push(new Array(1e5).fill(1));', memoryMb: 16, timeoutMs: 20000 } }] });
      const eaten = await finished(hogging.id, ((await (await send(hog, {})).json()) as { id: string }).id);
      expect(eaten.status).toBe('failed');
      expect(eaten.error).toMatch(/out of memory \(limit 16 MB\)/);
    });

    it('links a request to the executions it started, and parses form bodies', async () => {
      const src = await source();
      const wf = await workflow({ trigger: { type: 'webhook', source: src }, nodes: [{ key: 'form', type: 'set', config: { values: { email: '{{$context.data.email}}', q: '{{$context.query.ref}}' } } }] });
      const sent = await fetch(`${hy.url}/in/${src}?ref=ad`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a%40b.c&name=Ann' });
      const { id } = (await sent.json()) as { id: string };
      const execution = await finished(wf.id, id);
      expect(execution.jobs[0].output).toEqual({ email: 'a@b.c', q: 'ad' });
      const linked = await hy.api('GET', `/api/v1/sources/${src}/requests/${id}/executions`);
      expect(linked.body.data.map((e: { id: string }) => e.id)).toEqual([execution.id]);
      // A replay is a new processing run: it starts a new execution, and the first stays as it was.
      expect((await hy.api('POST', `/api/v1/sources/${src}/requests/${id}/replay`)).status).toBe(202);
      const both = await waitFor(() => hy.api('GET', `/api/v1/sources/${src}/requests/${id}/executions`), (r) => r.body.data.length === 2 && r.body.data.every((e: { status: string }) => e.status === 'succeeded'));
      expect(both.body.data[0].id).toBe(execution.id);
    });
  });
}

workflowSuite('sqlite', async () => ({ env: {}, drop: async () => undefined }));

describePg('workflows on PostgreSQL', () => {
  workflowSuite('postgres', async () => {
    const schema = await createSchema('hy_workflows');
    return { env: { HOOKYARD_DATABASE_URL: schema.url, HOOKYARD_SECRET_KEY: SECRET_KEY }, drop: () => schema.drop() };
  });
});

describe('workflows: private destinations', () => {
  it('refuses an http-request to a private address by default', async () => {
    const hy = await startTestHookyard({ HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: 'false' });
    try {
      expect((await hy.api('POST', '/api/v1/sources', { name: 'ssrf' })).status).toBe(201);
      const wf = await hy.api('POST', '/api/v1/workflows', {
        key: 'ssrf', trigger: { type: 'webhook', source: 'ssrf' },
        nodes: [{ key: 'call', type: 'http-request', config: { url: 'http://127.0.0.1:9/internal' } }],
      });
      expect(wf.status).toBe(201);
      const sent = await fetch(`${hy.url}/in/ssrf`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const { id } = (await sent.json()) as { id: string };
      const list = await waitFor(() => hy.api('GET', `/api/v1/workflows/ssrf/executions?requestId=${id}`), (r) => r.body.data[0]?.status === 'failed');
      expect(list.body.data[0].error).toMatch(/private or reserved/);
    } finally {
      await hy.stop();
    }
  });
});

describe('workflows: the nodes that can repeat after a crash', () => {
  it('are the ones docs/workflows.md names', () => {
    const docs = readFileSync(new URL('../docs/workflows.md', import.meta.url), 'utf8');
    const line = /- (.*) can \*\*repeat\*\* after a crash/.exec(docs)?.[1] ?? '';
    const named = [...line.matchAll(/`([a-z-]+)`/g)].map((match) => match[1]!).sort();
    expect(named).toEqual([...REPEATABLE_NODE_TYPES].sort());
    expect(named).toEqual(['create', 'emit', 'http-request', 'notify']);
  });
});

/** The three examples of docs/workflows.md, as written there (external URLs pointed at local receivers), end to end. */
describe('workflows: the examples in docs/workflows.md', () => {
  it('run as documented', async () => {
    const docs = readFileSync(new URL('../docs/workflows.md', import.meta.url), 'utf8');
    const examples = [...docs.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]!).filter((text) => text.includes('"key"') && text.includes('"trigger"'));
    const receiver = await Receiver.start();
    const smtp = await startSmtp();
    const hy = await startTestHookyard({ HOOKYARD_SMTP_URL: smtp.url, HOOKYARD_WORKFLOW_ENV: 'ERP_TOKEN', ERP_TOKEN: 'erp-secret' });
    try {
      receiver.on('/api/invoices', (_req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"ERP-9"}'));
      for (const name of ['stripe', 'github', 'contact']) expect((await hy.api('POST', '/api/v1/sources', { name })).status).toBe(201);
      const byKey = new Map<string, string>();
      for (const example of examples) {
        const body = JSON.parse(example.replaceAll('https://hooks.slack.com', receiver.url).replaceAll('https://erp.example.com', receiver.url)) as { key: string };
        const created = await hy.api('POST', '/api/v1/workflows', body);
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        byKey.set(body.key, created.body.id);
      }
      // The introduction's example and the three complete ones.
      expect([...byKey.keys()].sort()).toEqual(['big-invoices', 'contact-form', 'github-main-pushes', 'stripe-big-invoices']);
      const post = (source: string, body: string, headers: Record<string, string>) => fetch(`${hy.url}/in/${source}`, { method: 'POST', headers, body, redirect: 'manual' });

      // 1. A push to main is recorded and told to Slack; a push to another branch is not.
      const push = { ref: 'refs/heads/main', after: 'abc123', pusher: { name: 'ann' }, commits: [{ id: 'abc123' }], repository: { full_name: 'acme/app' } };
      await post('github', JSON.stringify(push), { 'content-type': 'application/json', 'x-github-event': 'push' });
      await post('github', JSON.stringify({ ...push, ref: 'refs/heads/dev' }), { 'content-type': 'application/json', 'x-github-event': 'push' });
      const slack = await waitFor(async () => receiver.received.filter((r) => r.path.startsWith('/services/')), (list) => list.length >= 1);
      expect(JSON.parse(slack[0]!.body).text).toMatch(/^ann pushed abc123 to acme\/app \(record doc_/);

      // 2. A big paid invoice goes to the ERP and the sender gets its id; a small one gets the workflow's response.
      const invoice = (amount: number) => JSON.stringify({ type: 'invoice.paid', data: { object: { id: 'in_1', amount_paid: amount, customer: 'cus_1' } } });
      const big = await post('stripe', invoice(25_000), { 'content-type': 'application/json' });
      expect(big.status).toBe(200);
      expect(await big.json()).toEqual({ received: true, erpId: 'ERP-9' });
      const erp = receiver.received.find((r) => r.path === '/api/invoices')!;
      expect(erp.headers.authorization).toBe('Bearer erp-secret');
      expect(JSON.parse(erp.body)).toEqual({ stripeInvoice: 'in_1', amount: 25_000, customer: 'cus_1' });
      const small = await post('stripe', invoice(500), { 'content-type': 'application/json' });
      expect(small.status).toBe(200);
      expect(await small.json()).toEqual({ received: true });

      // 3. A form post is saved, mailed and redirected.
      const form = await post('contact?from=pricing', 'name=Ann+Lee&email=ann%40example.com&message=Hello+there', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(form.status).toBe(303);
      expect(form.headers.get('location')).toBe('https://example.com/thanks');
      const mail = smtp.mails.find((m) => m.data.includes('Subject: Contact form: Ann Lee'))!;
      expect(mail.to).toEqual(['sales@example.com']);
      expect(mail.data).toContain('Ann Lee <ann@example.com> wrote:');
    } finally {
      await hy.stop();
      await receiver.close();
      await smtp.close();
    }
  });
});
