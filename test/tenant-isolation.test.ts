import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHookyard, type TestHookyard } from './helpers/hookyard.js';

/** Every app-scoped route, tried with another app's key: the other app must look like it does not exist. */
describe('tenant isolation', () => {
  let hy: TestHookyard;
  let mine: { app: string; key: string; keyId: string; ep: string; msg: string };
  let theirs: { app: string; uid: string; ep: string; msg: string };

  beforeAll(async () => {
    hy = await startTestHookyard();
    const setup = async (uid: string) => {
      const app = (await hy.api('POST', '/api/v1/apps', { name: uid, uid })).body.id as string;
      const key = (await hy.api('POST', `/api/v1/apps/${app}/keys`, { name: 'k' })).body;
      const ep = (await hy.api('POST', `/api/v1/apps/${app}/endpoints`, { url: 'http://127.0.0.1:9/none' })).body.id as string;
      const msg = (await hy.api('POST', `/api/v1/apps/${app}/messages`, { eventType: 'x', payload: {} })).body.id as string;
      return { app, key: key.token as string, keyId: key.id as string, ep, msg, uid };
    };
    mine = await setup('mine');
    theirs = await setup('theirs');
  });
  afterAll(async () => {
    await hy.stop();
  });

  it('lets an app key reach its own app', async () => {
    const opts = { token: mine.key };
    expect((await hy.api('GET', `/api/v1/apps/${mine.app}`, undefined, opts)).status).toBe(200);
    expect((await hy.api('GET', `/api/v1/apps/mine/endpoints`, undefined, opts)).body.data).toHaveLength(1);
    expect((await hy.api('POST', `/api/v1/apps/${mine.app}/messages`, { eventType: 'x', payload: {} }, opts)).status).toBe(202);
    expect((await hy.api('GET', `/api/v1/apps/${mine.app}/endpoints/${mine.ep}/secret`, undefined, opts)).status).toBe(200);
    expect((await hy.api('GET', '/api/v1/event-types', undefined, opts)).status).toBe(200);
  });

  it("answers 404 for every route of another app, by id or uid", async () => {
    const routes: Array<[string, string, unknown?]> = [];
    for (const app of [theirs.app, theirs.uid]) {
      const base = `/api/v1/apps/${app}`;
      routes.push(
        ['GET', base],
        ['GET', `${base}/endpoints`],
        ['POST', `${base}/endpoints`, { url: 'https://example.com/' }],
        ['GET', `${base}/endpoints/${theirs.ep}`],
        ['PATCH', `${base}/endpoints/${theirs.ep}`, { description: 'x' }],
        ['DELETE', `${base}/endpoints/${theirs.ep}`],
        ['GET', `${base}/endpoints/${theirs.ep}/secret`],
        ['POST', `${base}/endpoints/${theirs.ep}/secret/rotate`, {}],
        ['POST', `${base}/endpoints/${theirs.ep}/recover`, { since: '2020-01-01T00:00:00Z' }],
        ['GET', `${base}/endpoints/${theirs.ep}/attempts`],
        ['GET', `${base}/messages`],
        ['POST', `${base}/messages`, { eventType: 'x', payload: {} }],
        ['GET', `${base}/messages/${theirs.msg}`],
        ['GET', `${base}/messages/${theirs.msg}/attempts`],
        ['GET', `${base}/messages/${theirs.msg}/deliveries`],
        ['POST', `${base}/messages/${theirs.msg}/endpoints/${theirs.ep}/resend`],
      );
    }
    // Their endpoint and message ids under my own app must not resolve either.
    const mineBase = `/api/v1/apps/${mine.app}`;
    routes.push(
      ['GET', `${mineBase}/endpoints/${theirs.ep}`],
      ['GET', `${mineBase}/endpoints/${theirs.ep}/secret`],
      ['GET', `${mineBase}/messages/${theirs.msg}`],
      ['GET', `${mineBase}/messages/${theirs.msg}/attempts`],
      ['POST', `${mineBase}/messages/${theirs.msg}/endpoints/${mine.ep}/resend`],
      ['POST', `${mineBase}/messages/${mine.msg}/endpoints/${theirs.ep}/resend`],
    );
    for (const [method, path, body] of routes) {
      const res = await hy.api(method, path, body, { token: mine.key });
      expect({ method, path, status: res.status, code: res.body?.code }).toEqual({ method, path, status: 404, code: 'not_found' });
    }
    // Nothing of theirs was changed.
    const ep = await hy.api('GET', `/api/v1/apps/${theirs.app}/endpoints/${theirs.ep}`);
    expect(ep.body.description).toBe('');
    expect((await hy.api('GET', `/api/v1/apps/${theirs.app}/messages`)).body.data).toHaveLength(1);
  });

  it('answers 403 for admin-only routes', async () => {
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/api/v1/apps'],
      ['POST', '/api/v1/apps', { name: 'x' }],
      ['PATCH', `/api/v1/apps/${mine.app}`, { name: 'y' }],
      ['DELETE', `/api/v1/apps/${mine.app}`],
      ['POST', `/api/v1/apps/${mine.app}/keys`, {}],
      ['GET', `/api/v1/apps/${mine.app}/keys`],
      ['POST', '/api/v1/event-types', { name: 'evil' }],
      ['PATCH', '/api/v1/event-types/x', { description: 'x' }],
      ['DELETE', '/api/v1/event-types/x'],
    ];
    for (const [method, path, body] of routes) {
      const res = await hy.api(method, path, body, { token: mine.key });
      expect({ method, path, status: res.status, code: res.body?.code }).toEqual({ method, path, status: 403, code: 'forbidden' });
    }
  });

  it('stops accepting a revoked key', async () => {
    const key = (await hy.api('POST', `/api/v1/apps/${mine.app}/keys`, {})).body;
    expect((await hy.api('GET', `/api/v1/apps/${mine.app}`, undefined, { token: key.token })).status).toBe(200);
    expect((await hy.api('DELETE', `/api/v1/apps/${mine.app}/keys/${key.id}`)).status).toBe(204);
    expect((await hy.api('GET', `/api/v1/apps/${mine.app}`, undefined, { token: key.token })).status).toBe(401);
  });

  it('registers Polar-style webhooks only on the key\'s own app', async () => {
    const basic = (id: string, token: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${token}`).toString('base64')}` });
    const created = await hy.api('POST', '/v3/webhooks', { events: ['EXERCISE'], url: 'https://example.com/polar' }, { token: null, headers: basic(mine.keyId, mine.key) });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ events: ['EXERCISE'], url: 'https://example.com/polar' });
    expect(created.body.data.signature_secret_key).toMatch(/^whsec_/);
    expect((await hy.api('GET', `/api/v1/apps/${mine.app}/endpoints/${created.body.data.id}`)).status).toBe(200);
    expect((await hy.api('GET', `/api/v1/apps/${theirs.app}/endpoints/${created.body.data.id}`)).status).toBe(404);
    const listed = await hy.api('GET', '/v3/webhooks', undefined, { token: null, headers: basic(mine.keyId, mine.key) });
    expect(listed.body.data.map((w: any) => w.id)).toEqual([created.body.data.id]);
    expect((await hy.api('POST', '/v3/webhooks', { events: ['X'], url: 'https://example.com/' }, { token: null, headers: basic(theirs.ep, mine.key) })).status).toBe(401);
    expect((await hy.api('POST', '/v3/webhooks', { events: ['X'], url: 'https://example.com/' }, { token: null })).status).toBe(401);
    expect((await hy.api('DELETE', `/v3/webhooks/${theirs.ep}`, undefined, { token: null, headers: basic(mine.keyId, mine.key) })).status).toBe(404);
  });
});
