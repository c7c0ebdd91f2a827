import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHookyard, type TestHookyard } from './helpers/hookyard.js';

describe('management API', () => {
  let hy: TestHookyard;

  beforeAll(async () => {
    hy = await startTestHookyard();
  });
  afterAll(async () => {
    await hy.stop();
  });

  it('creates, reads by id or uid, lists, updates and deletes apps', async () => {
    const created = await hy.api('POST', '/api/v1/apps', { name: 'Acme', uid: 'acme', metadata: { plan: 'pro' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Acme', uid: 'acme', metadata: { plan: 'pro' } });
    expect(created.body.id).toMatch(/^app_[0-9A-Z]{26}$/);
    expect(new Date(created.body.createdAt).toISOString()).toBe(created.body.createdAt);
    expect((await hy.api('GET', '/api/v1/apps/acme')).body.id).toBe(created.body.id);
    expect((await hy.api('GET', `/api/v1/apps/${created.body.id}`)).body.uid).toBe('acme');
    const patched = await hy.api('PATCH', '/api/v1/apps/acme', { name: 'Acme Inc' });
    expect(patched.body).toMatchObject({ name: 'Acme Inc', uid: 'acme' });
    const dup = await hy.api('POST', '/api/v1/apps', { name: 'Again', uid: 'acme' });
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ code: 'conflict', message: expect.any(String), details: { id: created.body.id } });
    expect((await hy.api('DELETE', '/api/v1/apps/acme')).status).toBe(204);
    expect((await hy.api('GET', '/api/v1/apps/acme')).status).toBe(404);
  });

  it('paginates with limit and cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await hy.api('POST', '/api/v1/apps', { name: `page ${i}`, uid: `page-${i}` })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await hy.api('GET', `/api/v1/apps?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((a: any) => a.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.filter((id) => ids.includes(id))).toEqual(ids);
    expect((await hy.api('GET', '/api/v1/apps?limit=0')).status).toBe(422);
    expect((await hy.api('GET', '/api/v1/apps?limit=251')).status).toBe(422);
    expect((await hy.api('GET', '/api/v1/apps?cursor=%%%')).status).toBe(422);
  });

  it('answers bad input with clean 4xx errors', async () => {
    const cases: Array<[string, string, { body?: unknown; raw?: string; headers?: Record<string, string> }, number, string]> = [
      ['POST', '/api/v1/apps', { raw: '{"name": "x",' }, 400, 'bad_request'],
      ['POST', '/api/v1/apps', { raw: '' }, 400, 'bad_request'],
      ['POST', '/api/v1/apps', { body: { name: 42 } }, 422, 'validation_error'],
      ['POST', '/api/v1/apps', { body: { name: 'x', colour: 'red' } }, 422, 'validation_error'],
      ['POST', '/api/v1/apps', { body: [] }, 422, 'validation_error'],
      ['POST', '/api/v1/apps', { body: null }, 422, 'validation_error'],
      ['POST', '/api/v1/apps', { body: { name: '' } }, 422, 'validation_error'],
      ['POST', '/api/v1/apps', { body: { name: 'x', uid: 'has space' } }, 422, 'validation_error'],
      ['POST', '/api/v1/apps', { body: { name: 'x', uid: 'app_lookslikeanid' } }, 422, 'validation_error'],
      ['POST', '/api/v1/apps', { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type'],
      ['POST', '/api/v1/apps', { raw: JSON.stringify({ name: 'x'.repeat(2_000_000) }) }, 413, 'payload_too_large'],
      ['POST', '/api/v1/event-types', { body: { name: 'bad name!' } }, 422, 'validation_error'],
      ['POST', '/api/v1/event-types', { body: { name: 'ok', schema: { type: 'nonsense' } } }, 422, 'validation_error'],
      ['GET', '/api/v1/nothing-here', {}, 404, 'not_found'],
    ];
    for (const [method, path, options, status, code] of cases) {
      const res = await hy.api(method, path, options.body, { raw: options.raw, headers: options.headers });
      expect({ path, options: JSON.stringify(options).slice(0, 80), status: res.status, code: res.body?.code }).toEqual({
        path, options: JSON.stringify(options).slice(0, 80), status, code,
      });
      expect(typeof res.body.message).toBe('string');
    }
    const unknown = await hy.api('POST', '/api/v1/apps', { name: 'x', colour: 'red' });
    expect(unknown.body.details).toContainEqual({ path: '/body', message: 'unknown field "colour"' });
  });

  it('validates endpoints and messages', async () => {
    const { body: app } = await hy.api('POST', '/api/v1/apps', { name: 'validation' });
    const base = `/api/v1/apps/${app.id}`;
    const bad: Array<[unknown, number]> = [
      [{ url: 'not a url' }, 422],
      [{ url: 'ftp://example.com/x' }, 422],
      [{ url: 'https://user:pass@example.com/x' }, 422],
      [{ url: 'https://example.com', secret: 'nope' }, 422],
      [{ url: 'https://example.com', headers: { 'webhook-signature': 'forged' } }, 422],
      [{ url: 'https://example.com', headers: { 'bad header': 'x' } }, 422],
      [{ url: 'https://example.com', headers: { 'x-ok': 'line\r\nbreak' } }, 422],
      [{ url: 'https://example.com', rateLimit: 0 }, 422],
      [{ url: 'https://example.com', rateLimit: '5' }, 422],
      [{ url: 'https://example.com', timeoutMs: 10 }, 422],
      [{ url: 'https://example.com', eventTypes: ['a', 'a'] }, 422],
      [{}, 422],
    ];
    for (const [body, status] of bad) {
      const res = await hy.api('POST', `${base}/endpoints`, body);
      expect({ body, status: res.status, code: typeof res.body.code }).toEqual({ body, status, code: 'string' });
    }
    const ok = await hy.api('POST', `${base}/endpoints`, { url: 'https://example.com/hook', eventTypes: ['a.b'], rateLimit: 5, timeoutMs: 5000, headers: { 'x-k': 'v' } });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ url: 'https://example.com/hook', eventTypes: ['a.b'], rateLimit: 5, timeoutMs: 5000, headers: { 'x-k': 'v' }, disabled: false });
    expect(ok.body).not.toHaveProperty('secret');

    const msgs: Array<[unknown, number]> = [
      [{ eventType: 'a.b' }, 422],
      [{ eventType: 'a.b', payload: 'text' }, 422],
      [{ eventType: 'a.b', payload: [1, 2] }, 422],
      [{ eventType: '', payload: {} }, 422],
      [{ eventType: 'a.b', payload: {}, eventId: '' }, 422],
      [{ eventType: 'a.b', payload: {}, extra: 1 }, 422],
    ];
    for (const [body, status] of msgs) expect((await hy.api('POST', `${base}/messages`, body)).status).toBe(status);
    expect((await hy.api('GET', `${base}/endpoints/ep_missing`)).status).toBe(404);
    expect((await hy.api('GET', `${base}/messages/msg_missing`)).status).toBe(404);
    expect((await hy.api('GET', `/api/v1/apps/app_missing/messages`)).status).toBe(404);
    expect((await hy.api('POST', `${base}/endpoints/${ok.body.id}/recover`, { since: 'yesterday' })).status).toBe(422);
  });

  it('validates payloads against the event type schema', async () => {
    const schema = { type: 'object', required: ['invoiceId'], properties: { invoiceId: { type: 'string' }, amount: { type: 'integer', minimum: 0 } } };
    expect((await hy.api('POST', '/api/v1/event-types', { name: 'invoice.paid', description: 'paid', schema })).status).toBe(201);
    expect((await hy.api('POST', '/api/v1/event-types', { name: 'invoice.paid' })).status).toBe(409);
    const { body: app } = await hy.api('POST', '/api/v1/apps', { name: 'schema' });
    const bad = await hy.api('POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'invoice.paid', payload: { amount: -1 } });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('payload_invalid');
    expect(bad.body.details.map((d: any) => d.path).sort()).toEqual(['/payload', '/payload/amount']);
    const good = await hy.api('POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'invoice.paid', payload: { invoiceId: 'in_1', amount: 5 } });
    expect(good.status).toBe(202);
    const listed = await hy.api('GET', '/api/v1/event-types');
    expect(listed.body.data.map((e: any) => e.name)).toContain('invoice.paid');
    expect((await hy.api('PATCH', '/api/v1/event-types/invoice.paid', { schema: null })).body.schema).toBeNull();
    expect((await hy.api('POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'invoice.paid', payload: { amount: -1 } })).status).toBe(202);
  });

  it('returns the first response for a repeated Idempotency-Key and creates nothing', async () => {
    const first = await hy.api('POST', '/api/v1/apps', { name: 'idem' }, { headers: { 'idempotency-key': 'k-1' } });
    const second = await hy.api('POST', '/api/v1/apps', { name: 'idem' }, { headers: { 'idempotency-key': 'k-1' } });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const all = await hy.api('GET', '/api/v1/apps?limit=250');
    expect(all.body.data.filter((a: any) => a.name === 'idem')).toHaveLength(1);

    const m1 = await hy.api('POST', `/api/v1/apps/${first.body.id}/messages`, { eventType: 'x', payload: { a: 1 } }, { headers: { 'idempotency-key': 'm-1' } });
    const m2 = await hy.api('POST', `/api/v1/apps/${first.body.id}/messages`, { eventType: 'x', payload: { a: 1 } }, { headers: { 'idempotency-key': 'm-1' } });
    expect(m2.body.id).toBe(m1.body.id);
    expect((await hy.api('GET', `/api/v1/apps/${first.body.id}/messages`)).body.data).toHaveLength(1);

    // A failed request does not burn the key.
    expect((await hy.api('POST', '/api/v1/apps', { name: '' }, { headers: { 'idempotency-key': 'k-2' } })).status).toBe(422);
    expect((await hy.api('POST', '/api/v1/apps', { name: 'ok now' }, { headers: { 'idempotency-key': 'k-2' } })).status).toBe(201);
  });

  it('answers a repeated eventId with 409 and the existing message id', async () => {
    const { body: app } = await hy.api('POST', '/api/v1/apps', { name: 'event ids' });
    const first = await hy.api('POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'x', payload: {}, eventId: 'order-1' });
    const again = await hy.api('POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'x', payload: { other: true }, eventId: 'order-1' });
    expect(first.status).toBe(202);
    expect(first.body.eventId).toBe('order-1');
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'conflict', details: { id: first.body.id } });
  });

  it('filters messages by event type and time', async () => {
    const { body: app } = await hy.api('POST', '/api/v1/apps', { name: 'filters' });
    await hy.api('POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'a', payload: { n: 1 } });
    // `before` and `after` are exclusive at millisecond precision: keep the middle clear of both messages' times.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const middle = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await hy.api('POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'b', payload: { n: 2 } });
    const base = `/api/v1/apps/${app.id}/messages`;
    expect((await hy.api('GET', `${base}?eventType=a`)).body.data.map((m: any) => m.payload.n)).toEqual([1]);
    expect((await hy.api('GET', `${base}?after=${encodeURIComponent(middle)}`)).body.data.map((m: any) => m.payload.n)).toEqual([2]);
    expect((await hy.api('GET', `${base}?before=${encodeURIComponent(middle)}`)).body.data.map((m: any) => m.payload.n)).toEqual([1]);
    expect((await hy.api('GET', `${base}?before=notadate`)).status).toBe(422);
  });

  it('requires a valid token', async () => {
    expect((await hy.api('GET', '/api/v1/apps', undefined, { token: null })).status).toBe(401);
    const bad = await hy.api('GET', '/api/v1/apps', undefined, { token: 'nope' });
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('unauthorized');
    expect((await hy.api('GET', '/api/v1/apps', undefined, { headers: { authorization: 'Basic abc' }, token: null })).status).toBe(401);
  });

  it('serves health, metrics, the OpenAPI document and the reference page', async () => {
    expect((await hy.api('GET', '/health', undefined, { token: null })).body).toEqual({ status: 'ok' });
    const metrics = await fetch(`${hy.url}/metrics`);
    const text = await metrics.text();
    expect(text).toContain('hookyard_messages_accepted_total');
    expect(text).toContain('hookyard_queue_depth{status="pending"}');
    expect(text).toContain('hookyard_delivery_attempts_total');
    expect(text).toContain('hookyard_delivery_latency_seconds_bucket');
    const openapi = await hy.api('GET', '/openapi.json', undefined, { token: null });
    expect(openapi.body.openapi).toBe('3.1.0');
    for (const path of ['/api/v1/apps', '/api/v1/apps/{app}/endpoints', '/api/v1/apps/{app}/messages', '/api/v1/apps/{app}/endpoints/{ep}/recover', '/v3/webhooks']) {
      expect(Object.keys(openapi.body.paths)).toContain(path);
    }
    const docs = await fetch(`${hy.url}/docs`, { redirect: 'follow' });
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('<html');
  });
});
