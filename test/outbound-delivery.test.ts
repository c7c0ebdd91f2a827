import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHookyard, type TestHookyard } from './helpers/hookyard.js';
import { Receiver, type Received } from './helpers/receiver.js';

function verifyBoth(secret: string, request: Received): unknown {
  const headers = {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
  const viaStandard = new StandardWebhook(secret).verify(request.body, headers);
  const viaSvix = new SvixWebhook(secret).verify(request.body, headers);
  expect(viaSvix).toEqual(viaStandard);
  return viaStandard;
}

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('outbound delivery', () => {
  let hy: TestHookyard;
  let receiver: Receiver;
  let opsReceiver: Receiver;

  beforeAll(async () => {
    receiver = await Receiver.start();
    opsReceiver = await Receiver.start();
    hy = await startTestHookyard({
      HOOKYARD_RETRY_SCHEDULE: '100ms,100ms,100ms',
      HOOKYARD_OPERATIONAL_WEBHOOK_URL: `${opsReceiver.url}/ops`,
      HOOKYARD_DELIVERY_TIMEOUT_MS: '2000',
    });
  });
  afterAll(async () => {
    await hy.stop();
    await receiver.close();
    await opsReceiver.close();
  });

  async function app(name: string) {
    const res = await hy.api('POST', '/api/v1/apps', { name });
    expect(res.status).toBe(201);
    return res.body as { id: string };
  }

  async function endpoint(appId: string, path: string, extra: Record<string, unknown> = {}) {
    const res = await hy.api('POST', `/api/v1/apps/${appId}/endpoints`, { url: `${receiver.url}${path}`, ...extra });
    expect(res.status).toBe(201);
    const secret = await hy.api('GET', `/api/v1/apps/${appId}/endpoints/${res.body.id}/secret`);
    return { id: res.body.id as string, secret: secret.body.key as string };
  }

  it('fans out to subscribed endpoints with Standard Webhooks signatures', async () => {
    const { id } = await app('fanout');
    const all = await endpoint(id, '/fan/all', { headers: { 'x-tenant': 'acme' } });
    const users = await endpoint(id, '/fan/users', { eventTypes: ['user.created'] });
    const invoices = await endpoint(id, '/fan/invoices', { eventTypes: ['invoice.paid'] });

    const sent = await hy.api('POST', `/api/v1/apps/${id}/messages`, { eventType: 'user.created', payload: { userId: 42, name: 'Ada' } });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ eventType: 'user.created', eventId: null, payload: { userId: 42, name: 'Ada' } });
    expect(sent.body.id).toMatch(/^msg_/);

    await receiver.waitFor(1, '/fan/all');
    await receiver.waitFor(1, '/fan/users');
    const [toAll] = receiver.at('/fan/all');
    const [toUsers] = receiver.at('/fan/users');
    expect(verifyBoth(all.secret, toAll!)).toEqual({ userId: 42, name: 'Ada' });
    expect(verifyBoth(users.secret, toUsers!)).toEqual({ userId: 42, name: 'Ada' });
    expect(toAll!.headers['webhook-id']).toBe(sent.body.id);
    expect(toAll!.headers['content-type']).toBe('application/json');
    expect(toAll!.headers['user-agent']).toMatch(/^Hookyard\//);
    expect(toAll!.headers['x-tenant']).toBe('acme');
    expect(() => verifyBoth(users.secret, toAll!)).toThrow();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.at('/fan/invoices')).toHaveLength(0);
    expect(invoices.id).toMatch(/^ep_/);

    await eventually(async () => (await hy.api('GET', `/api/v1/apps/${id}/messages/${sent.body.id}/attempts`)).body.data.length === 2);
    const attempts = await hy.api('GET', `/api/v1/apps/${id}/messages/${sent.body.id}/attempts`);
    for (const attempt of attempts.body.data) {
      expect(attempt).toMatchObject({ status: 'success', responseStatusCode: 200, attempt: 1, trigger: 'scheduled', response: 'ok' });
    }
  });

  it('retries after a 500 and records every attempt', async () => {
    const { id } = await app('retry');
    let calls = 0;
    receiver.on('/retry', (_req, res) => {
      calls++;
      res.writeHead(calls < 3 ? 500 : 200).end(calls < 3 ? 'try later' : 'done');
    });
    const ep = await endpoint(id, '/retry');
    const sent = await hy.api('POST', `/api/v1/apps/${id}/messages`, { eventType: 'job.done', payload: { n: 1 } });
    await receiver.waitFor(3, '/retry');
    const ids = receiver.at('/retry').map((r) => r.headers['webhook-id']);
    expect(new Set(ids)).toEqual(new Set([sent.body.id]));
    await eventually(async () => (await hy.api('GET', `/api/v1/apps/${id}/endpoints/${ep.id}/attempts`)).body.data.length === 3);
    const attempts = (await hy.api('GET', `/api/v1/apps/${id}/endpoints/${ep.id}/attempts`)).body.data;
    expect(attempts.map((a: any) => [a.attempt, a.status, a.responseStatusCode])).toEqual([
      [3, 'success', 200],
      [2, 'failed', 500],
      [1, 'failed', 500],
    ]);
    expect(attempts[2].nextAttemptAt).not.toBeNull();
    expect(attempts[2].response).toBe('try later');
    const deliveries = await hy.api('GET', `/api/v1/apps/${id}/messages/${sent.body.id}/deliveries`);
    expect(deliveries.body.data).toEqual([expect.objectContaining({ endpointId: ep.id, status: 'succeeded', attempts: 3 })]);
  });

  it('honours Retry-After on 429', async () => {
    const { id } = await app('retry-after');
    let calls = 0;
    receiver.on('/slowdown', (_req, res) => {
      calls++;
      if (calls === 1) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.writeHead(204).end();
    });
    await endpoint(id, '/slowdown');
    await hy.api('POST', `/api/v1/apps/${id}/messages`, { eventType: 'x', payload: {} });
    await receiver.waitFor(2, '/slowdown');
    const [first, second] = receiver.at('/slowdown');
    // The schedule says 100 ms; Retry-After says 1 s.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
  });

  it('disables an endpoint that answers 410 and reports it', async () => {
    const { id } = await app('gone');
    receiver.on('/gone', (_req, res) => res.writeHead(410).end());
    const ep = await endpoint(id, '/gone');
    await hy.api('POST', `/api/v1/apps/${id}/messages`, { eventType: 'x', payload: {} });
    await receiver.waitFor(1, '/gone');
    await eventually(async () => (await hy.api('GET', `/api/v1/apps/${id}/endpoints/${ep.id}`)).body.disabled === true);
    expect((await hy.api('GET', `/api/v1/apps/${id}/endpoints/${ep.id}`)).body.disabledReason).toBe('gone');
    await opsReceiver.waitFor(1, '/ops');
    const events = opsReceiver.at('/ops').map((r) => JSON.parse(r.body));
    expect(events).toContainEqual(expect.objectContaining({ type: 'endpoint.disabled', data: expect.objectContaining({ endpointId: ep.id, reason: 'gone' }) }));

    await hy.api('POST', `/api/v1/apps/${id}/messages`, { eventType: 'x', payload: {} });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.at('/gone')).toHaveLength(1);
  });

  it('signs with both secrets during a rotation overlap', async () => {
    const { id } = await app('rotate');
    const ep = await endpoint(id, '/rotate');
    const rotated = await hy.api('POST', `/api/v1/apps/${id}/endpoints/${ep.id}/secret/rotate`, {});
    expect(rotated.status).toBe(204);
    const newSecret = (await hy.api('GET', `/api/v1/apps/${id}/endpoints/${ep.id}/secret`)).body.key as string;
    expect(newSecret).not.toBe(ep.secret);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the worker caches endpoints for up to 1 s
    await hy.api('POST', `/api/v1/apps/${id}/messages`, { eventType: 'x', payload: { v: 2 } });
    await receiver.waitFor(1, '/rotate');
    const [request] = receiver.at('/rotate');
    expect(String(request!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifyBoth(ep.secret, request!)).toEqual({ v: 2 });
    expect(verifyBoth(newSecret, request!)).toEqual({ v: 2 });

    const chosen = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    expect((await hy.api('POST', `/api/v1/apps/${id}/endpoints/${ep.id}/secret/rotate`, { key: chosen })).status).toBe(204);
    expect((await hy.api('GET', `/api/v1/apps/${id}/endpoints/${ep.id}/secret`)).body.key).toBe(chosen);
  });

  it('exhausts the schedule, reports it, and recovers the failed messages', async () => {
    const { id } = await app('recover');
    let healthy = false;
    receiver.on('/flaky', (_req, res) => res.writeHead(healthy ? 200 : 503).end());
    const ep = await endpoint(id, '/flaky');
    const since = new Date(Date.now() - 1000).toISOString();
    const sent = await hy.api('POST', `/api/v1/apps/${id}/messages`, { eventType: 'x', payload: { k: 1 } });
    await receiver.waitFor(4, '/flaky'); // immediate + 3 retries
    await eventually(async () => (await hy.api('GET', `/api/v1/apps/${id}/messages/${sent.body.id}/deliveries`)).body.data[0].status === 'failed');
    await eventually(() => opsReceiver.at('/ops').some((r) => JSON.parse(r.body).type === 'message.attempt.exhausted'));

    healthy = true;
    const recovered = await hy.api('POST', `/api/v1/apps/${id}/endpoints/${ep.id}/recover`, { since });
    expect(recovered.status).toBe(202);
    expect(recovered.body).toEqual({ status: 'queued', count: 1 });
    await receiver.waitFor(5, '/flaky');
    await eventually(async () => (await hy.api('GET', `/api/v1/apps/${id}/messages/${sent.body.id}/deliveries`)).body.data[0].status === 'succeeded');
    const attempts = (await hy.api('GET', `/api/v1/apps/${id}/messages/${sent.body.id}/attempts`)).body.data;
    expect(attempts[0]).toMatchObject({ status: 'success', trigger: 'manual', attempt: 5 });
    await eventually(() => opsReceiver.at('/ops').some((r) => JSON.parse(r.body).type === 'message.attempt.recovered'));
  });

  it('resends a delivered message once more on demand', async () => {
    const { id } = await app('resend');
    const ep = await endpoint(id, '/resend');
    const sent = await hy.api('POST', `/api/v1/apps/${id}/messages`, { eventType: 'x', payload: { r: 1 } });
    await receiver.waitFor(1, '/resend');
    await eventually(async () => (await hy.api('GET', `/api/v1/apps/${id}/messages/${sent.body.id}/deliveries`)).body.data[0].status === 'succeeded');
    const resend = await hy.api('POST', `/api/v1/apps/${id}/messages/${sent.body.id}/endpoints/${ep.id}/resend`);
    expect(resend.status).toBe(202);
    await receiver.waitFor(2, '/resend');
    const [first, second] = receiver.at('/resend');
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(verifyBoth(ep.secret, second!)).toEqual({ r: 1 });
    await eventually(async () => (await hy.api('GET', `/api/v1/apps/${id}/messages/${sent.body.id}/attempts`)).body.data.length === 2);
    expect((await hy.api('GET', `/api/v1/apps/${id}/messages/${sent.body.id}/attempts`)).body.data[0]).toMatchObject({ trigger: 'manual', attempt: 2 });
  });

  it('respects an endpoint rate limit without holding up other endpoints', async () => {
    const { id } = await app('rate');
    await endpoint(id, '/limited', { rateLimit: 2, eventTypes: ['limited'] });
    await endpoint(id, '/free', { eventTypes: ['free'] });
    const started = Date.now();
    for (let i = 0; i < 6; i++) await hy.api('POST', `/api/v1/apps/${id}/messages`, { eventType: 'limited', payload: { i } });
    for (let i = 0; i < 6; i++) await hy.api('POST', `/api/v1/apps/${id}/messages`, { eventType: 'free', payload: { i } });
    await receiver.waitFor(6, '/free');
    await receiver.waitFor(6, '/limited');
    // 2 per second with a burst of 2: the sixth limited delivery cannot arrive before ~2 s.
    const sixth = receiver.at('/limited').sort((a, b) => a.at - b.at)[5]!;
    expect(sixth.at - started).toBeGreaterThanOrEqual(1500);
    const lastFree = receiver.at('/free').sort((a, b) => a.at - b.at)[5]!;
    expect(lastFree.at).toBeLessThan(sixth.at);
  });
});
