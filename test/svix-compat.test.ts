import { ApiException, Svix, Webhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestHookyard, type TestHookyard } from './helpers/hookyard.js';
import { Receiver, type Received } from './helpers/receiver.js';
import { waitFor } from './helpers/wait.js';

/** The official Svix SDK, pointed at Hookyard. */

function signedHeaders(request: Received): Record<string, string> {
  return {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
}

const verify = (secret: string, request: Received): unknown => new Webhook(secret).verify(request.body, signedHeaders(request));

/** The ApiException a call fails with (the test fails if it succeeds, or fails otherwise). */
async function apiError(call: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) return { code: err.code, body: err.body };
    throw err;
  }
  throw new Error('the call succeeded');
}

describe('Svix-compatible API', () => {
  let hy: TestHookyard;
  let receiver: Receiver;
  let svix: Svix;
  let seq = 0;
  const uid = (prefix: string) => `${prefix}-${++seq}`;
  const byMessage = (msgId: string, path?: string) => receiver.received.filter((r) => r.headers['webhook-id'] === msgId && (path === undefined || r.path === path));

  beforeAll(async () => {
    receiver = await Receiver.start();
    hy = await startTestHookyard({ HOOKYARD_RETRY_SCHEDULE: '100ms,100ms,100ms', HOOKYARD_DELIVERY_TIMEOUT_MS: '2000' });
    svix = new Svix(ADMIN_TOKEN, { serverUrl: hy.url });
  });
  afterAll(async () => {
    await hy?.stop();
    await receiver?.close();
  });

  it('answers health', async () => {
    await expect(svix.health.get()).resolves.toBeUndefined();
  });

  it('creates, gets (by id or uid), updates and deletes applications; getOrCreate returns the existing one', async () => {
    const appUid = uid('acme');
    const app = await svix.application.create({ name: 'Acme', uid: appUid, metadata: { plan: 'pro' } });
    expect(app.id).toMatch(/^app_/);
    expect(app).toMatchObject({ name: 'Acme', uid: appUid, metadata: { plan: 'pro' } });
    expect(app.createdAt).toBeInstanceOf(Date);

    const again = await svix.application.getOrCreate({ name: 'Other name', uid: appUid });
    expect(again.id).toBe(app.id);
    expect(again.name).toBe('Acme');
    const fresh = await svix.application.getOrCreate({ name: 'Fresh', uid: uid('fresh') });
    expect(fresh.id).not.toBe(app.id);

    expect((await svix.application.get(appUid)).id).toBe(app.id);
    expect((await svix.application.patch(app.id, { name: 'Acme Inc' })).name).toBe('Acme Inc');
    const replaced = await svix.application.update(appUid, { name: 'Acme Ltd', uid: appUid });
    expect(replaced).toMatchObject({ id: app.id, name: 'Acme Ltd', metadata: {} });

    await svix.application.delete(fresh.id);
    const gone = await apiError(svix.application.get(fresh.id));
    expect(gone.code).toBe(404);
    expect(gone.body).toEqual({ code: 'not_found', detail: 'app not found' });
  });

  it('surfaces errors as ApiException with Svix bodies: 409 {code, detail}, 422 {detail: [{loc, msg, type}]}', async () => {
    const appUid = uid('dup');
    await svix.application.create({ name: 'Dup', uid: appUid });
    const conflict = await apiError(svix.application.create({ name: 'Dup again', uid: appUid }));
    expect(conflict.code).toBe(409);
    expect(conflict.body.code).toBe('conflict');
    expect(conflict.body.detail).toContain(appUid);

    const badUid = await apiError(svix.application.create({ name: 'x', uid: 'not valid!' }));
    expect(badUid.code).toBe(422);
    expect(badUid.body.detail[0]).toMatchObject({ loc: ['body', 'uid'], type: expect.any(String), msg: expect.any(String) });

    const app = await svix.application.create({ name: 'Errors' });
    const badUrl = await apiError(svix.endpoint.create(app.id, { url: 'ftp://example.com/hook' }));
    expect(badUrl.code).toBe(422);
    expect(badUrl.body.detail[0].loc).toEqual(['body', 'url']);

    const missing = await apiError(svix.endpoint.get(app.id, 'ep_missing'));
    expect(missing).toEqual({ code: 404, body: { code: 'not_found', detail: 'endpoint not found' } });
  });

  it('answers 400 not_supported for calls and fields Hookyard has no counterpart for', async () => {
    const app = await svix.application.create({ name: 'Unsupported' });
    const ep = await svix.endpoint.create(app.id, { url: `${receiver.url}/unsupported`, filterTypes: ['never.sent'] });
    const replay = await apiError(svix.endpoint.replayMissing(app.id, ep.id, { since: new Date(0) }));
    expect(replay.code).toBe(400);
    expect(replay.body.code).toBe('not_supported');
    expect(replay.body.detail).toContain('replay-missing');

    const example = await apiError(svix.endpoint.sendExample(app.id, ep.id, { eventType: 'never.sent' }));
    expect(example.code).toBe(400);
    expect(example.body.detail).toContain('send-example');

    const later = await apiError(svix.message.create(app.id, { eventType: 'never.sent', payload: {}, deliverAt: new Date(Date.now() + 60_000) }));
    expect(later.code).toBe(400);
    expect(later.body).toMatchObject({ code: 'not_supported', detail: expect.stringContaining('deliverAt') });
    expect((await svix.message.list(app.id)).data).toHaveLength(0);

    const rateLimited = await apiError(svix.application.create({ name: 'x', rateLimit: 10 }));
    expect(rateLimited.body).toMatchObject({ code: 'not_supported', detail: expect.stringContaining('rateLimit') });
  });

  it('manages event types, with the schema as version "1"', async () => {
    const name = `invoice.${uid('created')}`;
    const schema = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } };
    const created = await svix.eventType.create({ name, description: 'An invoice was created', schemas: { 1: schema } });
    expect(created).toMatchObject({ name, description: 'An invoice was created', schemas: { 1: schema }, deprecated: false, archived: false });
    expect((await svix.eventType.get(name)).schemas).toEqual({ 1: schema });
    expect((await svix.eventType.patch(name, { description: 'Created' })).description).toBe('Created');

    const listed = await svix.eventType.list({ withContent: true, limit: 250 });
    expect(listed.data.find((e) => e.name === name)?.schemas).toEqual({ 1: schema });

    const app = await svix.application.create({ name: 'Schemas' });
    const refused = await apiError(svix.message.create(app.id, { eventType: name, payload: { id: 42 } }));
    expect(refused.code).toBe(422);
    expect(refused.body.detail[0].loc).toEqual(['payload', 'id']);

    const updated = await svix.eventType.update(name, { description: 'No schema now' });
    expect(updated.schemas).toBeNull();
    expect((await svix.message.create(app.id, { eventType: name, payload: { id: 42 } })).id).toMatch(/^msg_/);

    await svix.eventType.delete(name);
    expect((await apiError(svix.eventType.get(name))).code).toBe(404);
  });

  it('delivers by filterTypes and channels, signed so that Webhook.verify accepts it; lists attempts and destinations', async () => {
    const app = await svix.application.create({ name: 'Delivery', uid: uid('delivery') });
    const invoices = await svix.endpoint.create(app.id, { url: `${receiver.url}/invoices`, filterTypes: ['invoice.paid'] });
    const project = await svix.endpoint.create(app.id, { url: `${receiver.url}/project`, channels: ['project-1'], metadata: { team: 'a' } });
    const everything = await svix.endpoint.create(app.id, { url: `${receiver.url}/everything` });
    expect(invoices).toMatchObject({ filterTypes: ['invoice.paid'], version: 1, disabled: false });
    expect(project).toMatchObject({ channels: ['project-1'], metadata: { team: 'a' } });
    const secrets = {
      invoices: (await svix.endpoint.getSecret(app.id, invoices.id)).key,
      project: (await svix.endpoint.getSecret(app.id, project.id)).key,
      everything: (await svix.endpoint.getSecret(app.id, everything.id)).key,
    };
    expect(secrets.invoices).toMatch(/^whsec_/);

    const paid = await svix.message.create(app.id, { eventType: 'invoice.paid', payload: { invoice: 'in_1' } });
    const user = await svix.message.create(app.id, { eventType: 'user.created', payload: { user: 'u_1' }, channels: ['project-1'] });
    expect(paid).toMatchObject({ eventType: 'invoice.paid', payload: { invoice: 'in_1' } });
    expect(user.channels).toEqual(['project-1']);

    await receiver.waitFor(2, '/everything');
    await receiver.waitFor(1, '/invoices');
    await receiver.waitFor(1, '/project');
    expect(verify(secrets.invoices, byMessage(paid.id, '/invoices')[0]!)).toEqual({ invoice: 'in_1' });
    expect(verify(secrets.everything, byMessage(paid.id, '/everything')[0]!)).toEqual({ invoice: 'in_1' });
    expect(verify(secrets.project, byMessage(user.id, '/project')[0]!)).toEqual({ user: 'u_1' });
    expect(verify(secrets.everything, byMessage(user.id, '/everything')[0]!)).toEqual({ user: 'u_1' });
    // The filters kept each message from the other endpoint.
    expect(byMessage(paid.id, '/project')).toHaveLength(0);
    expect(byMessage(user.id, '/invoices')).toHaveLength(0);
    expect(() => verify(secrets.invoices, byMessage(paid.id, '/everything')[0]!)).toThrow();

    const attempts = await waitFor(() => svix.messageAttempt.listByMsg(app.id, paid.id), (r) => r.data.length === 2);
    expect(attempts.data.map((a) => a.endpointId).sort()).toEqual([invoices.id, everything.id].sort());
    for (const attempt of attempts.data) {
      expect(attempt).toMatchObject({ msgId: paid.id, status: 0, statusText: 'success', responseStatusCode: 200, triggerType: 0, response: 'ok' });
      expect(attempt.id).toMatch(/^atmpt_/);
    }
    const one = await svix.messageAttempt.get(app.id, paid.id, attempts.data[0]!.id);
    expect(one.id).toBe(attempts.data[0]!.id);
    const onlyEverything = await svix.messageAttempt.listByMsg(app.id, paid.id, { endpointId: everything.id });
    expect(onlyEverything.data.map((a) => a.endpointId)).toEqual([everything.id]);

    const byEndpoint = await waitFor(() => svix.messageAttempt.listByEndpoint(app.id, everything.id, { withMsg: true }), (r) => r.data.length === 2);
    expect(byEndpoint.data.map((a) => a.msgId).sort()).toEqual([paid.id, user.id].sort());
    expect(byEndpoint.data.find((a) => a.msgId === user.id)?.msg?.eventType).toBe('user.created');
    const paidOnly = await svix.messageAttempt.listByEndpoint(app.id, everything.id, { eventTypes: ['invoice.paid'] });
    expect(paidOnly.data.map((a) => a.msgId)).toEqual([paid.id]);
    const projectOnly = await svix.messageAttempt.listByEndpoint(app.id, everything.id, { channel: 'project-1' });
    expect(projectOnly.data.map((a) => a.msgId)).toEqual([user.id]);

    const destinations = await svix.messageAttempt.listAttemptedDestinations(app.id, paid.id);
    expect(destinations.done).toBe(true);
    expect(destinations.data.map((d) => [d.id, d.statusText]).sort()).toEqual([[invoices.id, 'success'], [everything.id, 'success']].sort());

    const stats = await svix.endpoint.getStats(app.id, everything.id);
    expect(stats).toEqual({ success: 2, fail: 0, pending: 0, sending: 0, canceled: 0 });

    const byType = await svix.message.list(app.id, { eventTypes: ['invoice.paid'] });
    expect(byType.data.map((m) => m.id)).toEqual([paid.id]);
    const byTypes = await svix.message.list(app.id, { eventTypes: ['invoice.paid', 'user.created'] });
    expect(byTypes.data.map((m) => m.id)).toEqual([user.id, paid.id]);
    const byChannel = await svix.message.list(app.id, { channel: 'project-1' });
    expect(byChannel.data.map((m) => m.id)).toEqual([user.id]);
    expect((await svix.message.get(app.id, paid.id)).payload).toEqual({ invoice: 'in_1' });
  });

  it('resends a message to an endpoint, as a manual attempt', async () => {
    const app = await svix.application.create({ name: 'Resend' });
    const sent = await svix.message.create(app.id, { eventType: 'order.placed', payload: { order: 1 } });
    // Created after the message, so it never had a delivery of it.
    const late = await svix.endpoint.create(app.id, { url: `${receiver.url}/late` });
    await svix.messageAttempt.resend(app.id, sent.id, late.id);
    await waitFor(async () => byMessage(sent.id, '/late').length, (n) => n === 1);
    const secret = (await svix.endpoint.getSecret(app.id, late.id)).key;
    expect(verify(secret, byMessage(sent.id, '/late')[0]!)).toEqual({ order: 1 });
    const attempts = await waitFor(() => svix.messageAttempt.listByEndpoint(app.id, late.id), (r) => r.data.length === 1);
    expect(attempts.data[0]).toMatchObject({ msgId: sent.id, triggerType: 1, status: 0 });
  });

  it('rotates the secret: the new one verifies the next delivery (grace period 0: the old one no longer does)', async () => {
    const app = await svix.application.create({ name: 'Rotate' });
    const ep = await svix.endpoint.create(app.id, { url: `${receiver.url}/rotate` });
    const oldSecret = (await svix.endpoint.getSecret(app.id, ep.id)).key;
    const first = await svix.message.create(app.id, { eventType: 'x.y', payload: { n: 0 } });
    await waitFor(async () => byMessage(first.id).length, (n) => n === 1);
    expect(verify(oldSecret, byMessage(first.id)[0]!)).toEqual({ n: 0 });

    await svix.endpoint.rotateSecret(app.id, ep.id, { gracePeriodSeconds: 0 });
    const newSecret = (await svix.endpoint.getSecret(app.id, ep.id)).key;
    expect(newSecret).not.toBe(oldSecret);
    // The worker may still hold the endpoint's secrets for up to a second: send until a delivery carries the new one.
    let n = 0;
    const rotated = await waitFor(async () => {
      const message = await svix.message.create(app.id, { eventType: 'x.y', payload: { n: ++n } });
      await waitFor(async () => byMessage(message.id).length, (count) => count === 1);
      const request = byMessage(message.id)[0]!;
      try {
        verify(newSecret, request);
        return request;
      } catch {
        return null;
      }
    }, (request) => request !== null);
    expect(() => verify(oldSecret, rotated!)).toThrow();

    const chosen = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
    await svix.endpoint.rotateSecret(app.id, ep.id, { key: chosen });
    expect((await svix.endpoint.getSecret(app.id, ep.id)).key).toBe(chosen);
  });

  it('recovers failed messages once the endpoint answers again', async () => {
    const app = await svix.application.create({ name: 'Recover' });
    let healthy = false;
    receiver.on('/recover', (_req, res) => res.writeHead(healthy ? 200 : 500).end('nope'));
    const ep = await svix.endpoint.create(app.id, { url: `${receiver.url}/recover` });
    const sent = await svix.message.create(app.id, { eventType: 'x.failing', payload: {} });
    // The first attempt and three retries fail: the delivery is failed for good.
    const failed = await waitFor(() => svix.messageAttempt.listAttemptedDestinations(app.id, sent.id), (r) => r.data[0]?.statusText === 'fail');
    expect(failed.data[0]).toMatchObject({ id: ep.id, status: 2 });
    const attempts = await svix.messageAttempt.listByMsg(app.id, sent.id);
    expect(attempts.data).toHaveLength(4);
    expect(attempts.data.every((a) => a.status === 2 && a.responseStatusCode === 500 && a.response === 'nope')).toBe(true);
    expect((await svix.messageAttempt.listByMsg(app.id, sent.id, { statusCodeClass: 500 as never })).data).toHaveLength(4);
    expect((await svix.messageAttempt.listByMsg(app.id, sent.id, { status: 0 as never })).data).toHaveLength(0);
    expect((await svix.endpoint.getStats(app.id, ep.id)).fail).toBe(1);

    healthy = true;
    const task = await svix.endpoint.recover(app.id, ep.id, { since: new Date(Date.now() - 60_000) });
    expect(task).toMatchObject({ status: 'finished', task: 'endpoint.recover' });
    await waitFor(() => svix.messageAttempt.listAttemptedDestinations(app.id, sent.id), (r) => r.data[0]?.statusText === 'success');
  });

  it('keeps one message per idempotency key, and refuses a repeated eventId with 409', async () => {
    const app = await svix.application.create({ name: 'Idempotent' });
    await svix.endpoint.create(app.id, { url: `${receiver.url}/idempotent` });
    const first = await svix.message.create(app.id, { eventType: 'pay.once', payload: { a: 1 } }, { idempotencyKey: 'same-key' });
    const second = await svix.message.create(app.id, { eventType: 'pay.once', payload: { a: 1 } }, { idempotencyKey: 'same-key' });
    expect(second.id).toBe(first.id);
    expect((await svix.message.list(app.id, { eventTypes: ['pay.once'] })).data.map((m) => m.id)).toEqual([first.id]);
    const attempts = await waitFor(() => svix.messageAttempt.listByMsg(app.id, first.id), (r) => r.data.length > 0);
    expect(attempts.data).toHaveLength(1);
    expect(byMessage(first.id)).toHaveLength(1);

    const withId = await svix.message.create(app.id, { eventType: 'pay.once', payload: { a: 2 }, eventId: 'evt-1' });
    expect(withId.eventId).toBe('evt-1');
    const duplicate = await apiError(svix.message.create(app.id, { eventType: 'pay.once', payload: { a: 2 }, eventId: 'evt-1' }));
    expect(duplicate.code).toBe(409);
    expect(duplicate.body.code).toBe('conflict');
    expect(duplicate.body.detail).toContain(withId.id);
  });

  it('pages with limit and iterator until done', async () => {
    const app = await svix.application.create({ name: 'Pages' });
    const sent: string[] = [];
    for (let i = 0; i < 7; i++) sent.push((await svix.message.create(app.id, { eventType: 'page.item', payload: { i } })).id);
    const endpoints: string[] = [];
    for (let i = 0; i < 5; i++) endpoints.push((await svix.endpoint.create(app.id, { url: `${receiver.url}/page-${i}`, filterTypes: ['never.sent'] })).id);

    const seen: string[] = [];
    let iterator: string | null = null;
    let pages = 0;
    for (;;) {
      const page: Awaited<ReturnType<typeof svix.message.list>> = await svix.message.list(app.id, { limit: 3, iterator });
      pages++;
      seen.push(...page.data.map((m) => m.id));
      expect(page.data.length).toBeLessThanOrEqual(3);
      if (page.done) break;
      iterator = page.iterator;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([...sent].reverse());

    const seenEndpoints: string[] = [];
    iterator = null;
    for (;;) {
      const page: Awaited<ReturnType<typeof svix.endpoint.list>> = await svix.endpoint.list(app.id, { limit: 2, iterator });
      seenEndpoints.push(...page.data.map((e) => e.id));
      expect(page.prevIterator ?? null).toBeNull();
      if (page.done) break;
      iterator = page.iterator;
    }
    expect(seenEndpoints).toEqual(endpoints);

    const allApps: string[] = [];
    iterator = null;
    for (;;) {
      const page: Awaited<ReturnType<typeof svix.application.list>> = await svix.application.list({ limit: 2, iterator });
      allApps.push(...page.data.map((a) => a.id));
      if (page.done) break;
      iterator = page.iterator;
    }
    expect(allApps).toContain(app.id);
    expect(new Set(allApps).size).toBe(allApps.length);
  });

  it('manages endpoint headers, settings and deletion', async () => {
    const app = await svix.application.create({ name: 'Headers' });
    const ep = await svix.endpoint.create(app.id, { url: `${receiver.url}/headers`, headers: { 'x-one': '1' }, rateLimit: 50 });
    expect(ep.rateLimit).toBe(50);
    await svix.endpoint.updateHeaders(app.id, ep.id, { headers: { 'x-two': '2', 'x-three': '3' } });
    await svix.endpoint.patchHeaders(app.id, ep.id, { headers: { 'x-four': '4' }, deleteHeaders: ['x-three'] });
    expect(await svix.endpoint.getHeaders(app.id, ep.id)).toEqual({ headers: { 'x-two': '2', 'x-four': '4' }, sensitive: [] });
    const sent = await svix.message.create(app.id, { eventType: 'h.x', payload: {} });
    await waitFor(async () => byMessage(sent.id).length, (n) => n === 1);
    expect(byMessage(sent.id)[0]!.headers).toMatchObject({ 'x-two': '2', 'x-four': '4' });

    const patched = await svix.endpoint.patch(app.id, ep.id, { disabled: true, description: 'paused', filterTypes: ['a.b'] });
    expect(patched).toMatchObject({ disabled: true, description: 'paused', filterTypes: ['a.b'], rateLimit: 50 });
    const cleared = await svix.endpoint.patch(app.id, ep.id, { filterTypes: null });
    expect(cleared.filterTypes).toBeNull();
    const replaced = await svix.endpoint.update(app.id, ep.id, { url: `${receiver.url}/headers-2` });
    expect(replaced).toMatchObject({ url: `${receiver.url}/headers-2`, disabled: false, description: '', rateLimit: null });
    expect((await svix.endpoint.getHeaders(app.id, ep.id)).headers).toEqual({ 'x-two': '2', 'x-four': '4' });

    await svix.endpoint.delete(app.id, ep.id);
    expect((await apiError(svix.endpoint.get(app.id, ep.id))).code).toBe(404);
  });

  it('opens a consumer portal session: {url, token}', async () => {
    const appUid = uid('portal');
    const app = await svix.application.create({ name: 'Portal', uid: appUid });
    const access = await svix.authentication.appPortalAccess(appUid, { expiry: 600 });
    expect(access.url).toContain(`${hy.url}/portal#token=`);
    const session = await hy.api('GET', '/api/v1/portal/session', undefined, { token: access.token });
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ app: { id: app.id }, readOnly: false });

    const readOnly = await svix.authentication.appPortalAccess(app.id, { capabilities: ['ViewBase' as never, 'ViewEndpointSecret' as never] });
    expect((await hy.api('GET', '/api/v1/portal/session', undefined, { token: readOnly.token })).body.readOnly).toBe(true);
    // A portal session is held to the portal's own routes, Svix ones included.
    expect((await apiError(new Svix(access.token, { serverUrl: hy.url }).application.get(app.id))).code).toBe(403);

    const narrow = await apiError(svix.authentication.appPortalAccess(app.id, { capabilities: ['ViewBase' as never] }));
    expect(narrow.body.code).toBe('not_supported');
    // `application` creates the app when it does not exist yet, with the path's value as uid.
    const newUid = uid('portal-new');
    await svix.authentication.appPortalAccess(newUid, { application: { name: 'Created by portal' } });
    expect((await svix.application.get(newUid)).name).toBe('Created by portal');
  });

  it('holds an app key to its own app (another app answers 404) and admin-only calls to the admin token', async () => {
    const mine = await svix.application.create({ name: 'Mine', uid: uid('mine') });
    const theirs = await svix.application.create({ name: 'Theirs', uid: uid('theirs') });
    const theirEp = await svix.endpoint.create(theirs.id, { url: `${receiver.url}/theirs`, filterTypes: ['never.sent'] });
    const theirMsg = await svix.message.create(theirs.id, { eventType: 'secret.thing', payload: { s: 1 } });
    const key = await hy.api('POST', `/api/v1/apps/${mine.id}/keys`, { name: 'svix' });
    const asMine = new Svix(key.body.token as string, { serverUrl: hy.url });

    expect((await asMine.application.get(mine.uid!)).id).toBe(mine.id);
    const myEp = await asMine.endpoint.create(mine.id, { url: `${receiver.url}/mine` });
    expect((await asMine.message.create(mine.id, { eventType: 'mine.x', payload: {} })).id).toMatch(/^msg_/);

    const calls: Array<[string, () => Promise<unknown>]> = [];
    for (const app of [theirs.id, theirs.uid!]) {
      calls.push(
        ['application.get', () => asMine.application.get(app)],
        ['endpoint.list', () => asMine.endpoint.list(app)],
        ['endpoint.create', () => asMine.endpoint.create(app, { url: 'https://example.com/' })],
        ['endpoint.get', () => asMine.endpoint.get(app, theirEp.id)],
        ['endpoint.patch', () => asMine.endpoint.patch(app, theirEp.id, { description: 'x' })],
        ['endpoint.getSecret', () => asMine.endpoint.getSecret(app, theirEp.id)],
        ['endpoint.rotateSecret', () => asMine.endpoint.rotateSecret(app, theirEp.id, {})],
        ['endpoint.getHeaders', () => asMine.endpoint.getHeaders(app, theirEp.id)],
        ['endpoint.recover', () => asMine.endpoint.recover(app, theirEp.id, { since: new Date(0) })],
        ['endpoint.getStats', () => asMine.endpoint.getStats(app, theirEp.id)],
        ['endpoint.delete', () => asMine.endpoint.delete(app, theirEp.id)],
        ['message.create', () => asMine.message.create(app, { eventType: 'x', payload: {} })],
        ['message.list', () => asMine.message.list(app)],
        ['message.get', () => asMine.message.get(app, theirMsg.id)],
        ['messageAttempt.listByMsg', () => asMine.messageAttempt.listByMsg(app, theirMsg.id)],
        ['messageAttempt.listByEndpoint', () => asMine.messageAttempt.listByEndpoint(app, theirEp.id)],
        ['messageAttempt.listAttemptedDestinations', () => asMine.messageAttempt.listAttemptedDestinations(app, theirMsg.id)],
        ['messageAttempt.resend', () => asMine.messageAttempt.resend(app, theirMsg.id, theirEp.id)],
        ['authentication.appPortalAccess', () => asMine.authentication.appPortalAccess(app, {})],
      );
    }
    // Their ids under my own app do not resolve either.
    calls.push(
      ['endpoint.get (mine)', () => asMine.endpoint.get(mine.id, theirEp.id)],
      ['message.get (mine)', () => asMine.message.get(mine.id, theirMsg.id)],
      ['messageAttempt.resend (mine)', () => asMine.messageAttempt.resend(mine.id, theirMsg.id, myEp.id)],
    );
    for (const [name, call] of calls) {
      const error = await apiError(call());
      expect({ name, code: error.code, body: error.body.code }).toEqual({ name, code: 404, body: 'not_found' });
    }
    expect((await svix.endpoint.get(theirs.id, theirEp.id)).description).toBe('');

    const adminOnly = [
      () => asMine.application.list(),
      () => asMine.application.create({ name: 'nope' }),
      () => asMine.application.delete(mine.id),
      () => asMine.eventType.create({ name: 'no.pe', description: '' }),
    ];
    for (const call of adminOnly) expect((await apiError(call())).code).toBe(403);
    expect((await apiError(new Svix('wrong-token', { serverUrl: hy.url }).application.list())).code).toBe(401);
  });
});
