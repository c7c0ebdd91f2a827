import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHookyard, type TestHookyard } from './helpers/hookyard.js';
import { Receiver } from './helpers/receiver.js';

/** The consumer portal's backend: sessions, what their tokens may reach, test events, the page's headers. */
describe('consumer portal access', () => {
  let hy: TestHookyard;
  let receiver: Receiver;
  let app: { id: string };
  let other: { id: string };

  beforeAll(async () => {
    receiver = await Receiver.start();
    hy = await startTestHookyard({ HOOKYARD_PORTAL_FRAME_ANCESTORS: "'self' https://app.example.com" });
    app = (await hy.api('POST', '/api/v1/apps', { name: 'Acme', uid: 'acme', portal: { color: '#0a7c4a', logoUrl: 'https://cdn.example.com/acme.png' } })).body;
    other = (await hy.api('POST', '/api/v1/apps', { name: 'Other' })).body;
    await hy.api('POST', '/api/v1/event-types', {
      name: 'invoice.paid',
      description: 'An invoice was paid',
      schema: { type: 'object', required: ['amount'], properties: { amount: { type: 'integer', minimum: 100 }, currency: { enum: ['EUR', 'USD'] }, paidAt: { type: 'string', format: 'date-time' } } },
    });
  });
  afterAll(async () => {
    await hy.stop();
    await receiver.close();
  });

  const access = async (appId: string, body?: unknown) => {
    const res = await hy.api('POST', `/api/v1/apps/${appId}/portal-access`, body);
    expect(res.status).toBe(201);
    return res.body as { url: string; token: string; keyId: string; expiresAt: string };
  };

  it('opens an app-scoped session whose URL carries the token in the fragment', async () => {
    const before = Date.now();
    const session = await access('acme');
    expect(session.url).toBe(`${hy.url}/portal#token=${encodeURIComponent(session.token)}`);
    expect(Date.parse(session.expiresAt) - before).toBeGreaterThanOrEqual(3_599_000);
    const me = await hy.api('GET', '/api/v1/portal/session', undefined, { token: session.token });
    expect(me.body).toEqual({
      app: { id: app.id, uid: 'acme', name: 'Acme', portal: { color: '#0a7c4a', logoUrl: 'https://cdn.example.com/acme.png' } },
      expiresAt: session.expiresAt,
      readOnly: false,
    });
    const keys = await hy.api('GET', `/api/v1/apps/${app.id}/keys`);
    expect(keys.body.data).toContainEqual(expect.objectContaining({ id: session.keyId, kind: 'portal', expiresAt: session.expiresAt, readOnly: false }));
    expect(JSON.stringify(keys.body)).not.toContain(session.token);
  });

  it('lets the session manage its own endpoints and read its messages, and nothing else', async () => {
    const { token } = await access(app.id);
    const as = (method: string, path: string, body?: unknown) => hy.api(method, path, body, { token });
    const created = await as('POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}/portal`, eventTypes: ['invoice.paid'] });
    expect(created.status).toBe(201);
    expect((await as('GET', `/api/v1/apps/${app.id}/endpoints/${created.body.id}/secret`)).body.key).toMatch(/^whsec_/);
    expect((await as('GET', `/api/v1/apps/${app.id}/messages`)).status).toBe(200);
    expect((await as('GET', '/api/v1/event-types')).status).toBe(200);

    // Another app, even addressed directly, does not exist for this token.
    expect((await as('GET', `/api/v1/apps/${other.id}/endpoints`)).status).toBe(404);
    expect((await as('POST', `/api/v1/apps/${other.id}/endpoints`, { url: `${receiver.url}/x` })).status).toBe(404);
    // What an app key could do but a customer's browser must not.
    for (const [method, path, body] of [
      ['POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'invoice.paid', payload: { amount: 100 } }],
      ['POST', `/api/v1/apps/${app.id}/keys`, {}],
      ['POST', `/api/v1/apps/${app.id}/portal-access`, {}],
      ['PATCH', `/api/v1/apps/${app.id}`, { name: 'mine now' }],
      ['GET', '/api/v1/sources', undefined],
      ['GET', '/api/v1/stats', undefined],
      ['POST', '/api/v1/event-types', { name: 'x.y' }],
    ] as const) {
      const res = await as(method, path, body);
      expect([path, res.status, res.body.code]).toEqual([path, 403, 'forbidden']);
    }
  });

  it('holds a read-only session to reads', async () => {
    const { token } = await access(app.id, { readOnly: true });
    expect((await hy.api('GET', `/api/v1/apps/${app.id}/endpoints`, undefined, { token })).status).toBe(200);
    const write = await hy.api('POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}/ro` }, { token });
    expect([write.status, write.body.message]).toEqual([403, 'this portal session is read-only']);
  });

  it('refuses an expired or revoked token with 401', async () => {
    const { services } = hy.hookyard;
    const acme = (await services.store.getApp(app.id))!;
    const expired = await services.portal.createAccess(acme, { expirySeconds: 60 }, hy.url, Date.now() - 61_000);
    const res = await hy.api('GET', '/api/v1/portal/session', undefined, { token: expired.token });
    expect([res.status, res.body]).toEqual([401, { code: 'unauthorized', message: 'the token has expired' }]);

    const session = await access(app.id);
    expect((await hy.api('GET', '/api/v1/portal/session', undefined, { token: session.token })).status).toBe(200);
    expect((await hy.api('DELETE', `/api/v1/apps/${app.id}/keys/${session.keyId}`)).status).toBe(204);
    expect((await hy.api('GET', '/api/v1/portal/session', undefined, { token: session.token })).status).toBe(401);
    expect((await hy.api('POST', `/api/v1/apps/${app.id}/portal-access`, { expirySeconds: 10 })).status).toBe(422);
  });

  it("sends a test event with the event type's example to one endpoint, whatever its filters", async () => {
    const { token } = await access(app.id);
    const catalog = await hy.api('GET', '/api/v1/event-types/invoice.paid', undefined, { token });
    expect(catalog.body.example).toEqual({ amount: 100, currency: 'EUR', paidAt: '2026-01-01T00:00:00Z' });
    const target = await hy.api('POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}/test-target`, eventTypes: ['other.type'] }, { token });
    await hy.api('POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}/bystander` });
    const sent = await hy.api('POST', `/api/v1/apps/${app.id}/endpoints/${target.body.id}/test`, { eventType: 'invoice.paid' }, { token });
    expect(sent.status).toBe(202);
    expect(sent.body.payload).toEqual(catalog.body.example);
    await receiver.waitFor(1, '/test-target');
    expect(JSON.parse(receiver.at('/test-target')[0]!.body)).toEqual(catalog.body.example);
    // Only the endpoint asked for got it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.at('/bystander')).toHaveLength(0);
    // A payload the schema refuses is refused here too.
    const bad = await hy.api('POST', `/api/v1/apps/${app.id}/endpoints/${target.body.id}/test`, { eventType: 'invoice.paid', payload: { amount: 1 } }, { token });
    expect(bad.status).toBe(422);
  });

  it('serves the page so that only the configured origins may frame it', async () => {
    const res = await fetch(`${hy.url}/portal`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'self' https://app.example.com");
    expect(res.headers.get('x-frame-options')).toBeNull();
    // The dashboard stays unframeable.
    expect((await fetch(`${hy.url}/`)).headers.get('x-frame-options')).toBe('DENY');
  });

  it('validates the theme', async () => {
    const res = await hy.api('PATCH', `/api/v1/apps/${other.id}`, { portal: { color: 'red', logoUrl: 'javascript:alert(1)' } });
    expect(res.status).toBe(422);
    const ok = await hy.api('PATCH', `/api/v1/apps/${other.id}`, { portal: { color: '#112233' } });
    expect(ok.body.portal).toEqual({ color: '#112233', logoUrl: null });
  });
});
