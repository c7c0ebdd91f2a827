import { request as httpRequest, Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHookyard, type TestHookyard } from './helpers/hookyard.js';
import { Receiver } from './helpers/receiver.js';

describe('batch sends and keep-alive', () => {
  let hy: TestHookyard;
  let receiver: Receiver;
  let appId: string;
  let endpointId: string;

  beforeAll(async () => {
    hy = await startTestHookyard();
    receiver = await Receiver.start();
    appId = (await hy.api('POST', '/api/v1/apps', { name: 'Batch', uid: 'batch' })).body.id;
    endpointId = (await hy.api('POST', '/api/v1/apps/batch/endpoints', { url: `${receiver.url}/batch`, eventTypes: ['order.paid', 'order.typed'] })).body.id;
    await hy.api('POST', '/api/v1/event-types', { name: 'order.typed', schema: { type: 'object', required: ['amount'], properties: { amount: { type: 'integer' } } } });
  });
  afterAll(async () => {
    await hy.stop();
    await receiver.close();
  });

  it('accepts each message of a batch on its own merits, in order, and delivers the accepted ones', async () => {
    const first = await hy.api('POST', '/api/v1/apps/batch/messages', { eventType: 'order.paid', payload: { n: 0 }, eventId: 'evt-existing' });
    expect(first.status).toBe(202);
    const res = await hy.api('POST', '/api/v1/apps/batch/messages/batch', {
      messages: [
        { eventType: 'order.paid', payload: { n: 1 } },
        { eventType: 'order.paid', payload: { n: 2 }, eventId: 'evt-existing' },
        { eventType: 'order.typed', payload: { amount: 'lots' } },
        { eventType: 'order.typed', payload: { amount: 5 }, eventId: 'evt-new' },
        { eventType: 'order.other', payload: { n: 5 } },
      ],
    });
    expect(res.status).toBe(200);
    const data = res.body.data as Array<{ status: number; message?: any; error?: any }>;
    expect(data.map((result) => result.status)).toEqual([202, 409, 422, 202, 202]);
    expect(data[0]!.message).toMatchObject({ eventType: 'order.paid', payload: { n: 1 }, id: expect.stringMatching(/^msg_/) });
    expect(data[1]!.error).toEqual({ code: 'conflict', message: expect.any(String), details: { id: first.body.id } });
    expect(data[2]!.error).toMatchObject({ code: 'payload_invalid', details: [{ path: '/payload/amount', message: expect.any(String) }] });
    expect(data[3]!.message).toMatchObject({ eventId: 'evt-new' });
    // Accepted means committed: each is readable, and the subscribed ones are delivered.
    for (const result of data.filter((r) => r.status === 202)) {
      expect((await hy.api('GET', `/api/v1/apps/batch/messages/${result.message.id}`)).status).toBe(200);
    }
    await receiver.waitFor(3, '/batch');
    const delivered = new Set(receiver.at('/batch').map((r) => String(r.headers['webhook-id'])));
    expect(delivered.has(data[0]!.message.id)).toBe(true);
    expect(delivered.has(data[3]!.message.id)).toBe(true);
    // order.other has no subscriber: accepted, with no delivery.
    expect((await hy.api('GET', `/api/v1/apps/batch/messages/${data[4]!.message.id}/deliveries`)).body.data).toEqual([]);
    expect((await hy.api('GET', `/api/v1/apps/batch/messages/${data[0]!.message.id}/deliveries`)).body.data).toMatchObject([{ endpointId }]);
  });

  it('refuses an empty batch, more than 100 messages and malformed items with 422, sending none of them', async () => {
    const before = (await hy.api('GET', '/api/v1/apps/batch/messages?limit=250')).body.data.length;
    const one = { eventType: 'order.paid', payload: { n: 1 } };
    for (const body of [{ messages: [] }, { messages: Array.from({ length: 101 }, () => one) }, { messages: [one, { eventType: 'order.paid' }] }, { messages: [one], extra: 1 }, [one]]) {
      const res = await hy.api('POST', '/api/v1/apps/batch/messages/batch', body);
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('validation_error');
    }
    expect((await hy.api('GET', '/api/v1/apps/batch/messages?limit=250')).body.data.length).toBe(before);
    const full = await hy.api('POST', '/api/v1/apps/batch/messages/batch', { messages: Array.from({ length: 100 }, (_, i) => ({ eventType: 'order.other', payload: { i } })) });
    expect(full.status).toBe(200);
    expect(full.body.data.every((result: { status: number }) => result.status === 202)).toBe(true);
  });

  it("keeps tenants apart: an app key cannot batch into another app, and 404 leaks nothing", async () => {
    const other = (await hy.api('POST', '/api/v1/apps', { name: 'Other', uid: 'other-batch' })).body;
    const key = (await hy.api('POST', `/api/v1/apps/${other.id}/keys`, { name: 'other' })).body;
    const res = await hy.api('POST', `/api/v1/apps/${appId}/messages/batch`, { messages: [{ eventType: 'order.paid', payload: {} }] }, { token: key.token });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
    const own = await hy.api('POST', `/api/v1/apps/${other.id}/messages/batch`, { messages: [{ eventType: 'order.paid', payload: {} }] }, { token: key.token });
    expect(own.status).toBe(200);
    expect(own.body.data[0].status).toBe(202);
  });

  it('replays a batch sent again with the same Idempotency-Key, creating nothing more', async () => {
    const body = { messages: [{ eventType: 'order.other', payload: { idem: 1 } }, { eventType: 'order.other', payload: { idem: 2 } }] };
    const first = await hy.api('POST', '/api/v1/apps/batch/messages/batch', body, { headers: { 'idempotency-key': 'batch-1' } });
    const again = await hy.api('POST', '/api/v1/apps/batch/messages/batch', body, { headers: { 'idempotency-key': 'batch-1' } });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
  });

  it('answers many sends over one kept-alive connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL('/api/v1/apps/batch/messages', hy.url);
    const sockets = new Set<unknown>();
    try {
      for (let i = 0; i < 20; i++) {
        const { status, headers } = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
          const req = httpRequest(url, {
            method: 'POST',
            agent,
            headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' },
          }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
          });
          req.on('socket', (socket) => sockets.add(socket));
          req.on('error', reject);
          req.end(JSON.stringify({ eventType: 'order.other', payload: { i } }));
        });
        expect(status).toBe(202);
        expect(headers.connection).toBe('keep-alive');
        expect(headers['content-length']).toBeDefined();
      }
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});
