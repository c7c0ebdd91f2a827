import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { sign as githubSign } from '@octokit/webhooks-methods';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHookyard, type TestHookyard } from './helpers/hookyard.js';
import { Receiver } from './helpers/receiver.js';
import { waitFor } from './helpers/wait.js';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];
const example = (name: string): object => examples.find((definition) => definition.name === name)!.examples[0] as object;
const GITHUB_SECRET = "It's a Secret to Everybody";

const HANDLER = `
import type { HandlerContext } from '../src-types';
type Ctx = { request: { body: any; headers: Record<string, string> }; db: any };
export async function push(ctx: Ctx): Promise<unknown> {
  const commits: number = ctx.request.body.commits.length;
  await ctx.db.collection('pushes').insert({ ref: ctx.request.body.ref, commits, repo: ctx.request.body.repository.full_name });
  const all = await ctx.db.collection('pushes').find({ repo: ctx.request.body.repository.full_name });
  return { event: 'push', commits, pushesSeen: all.length };
}
export const pull_request = async (ctx: Ctx) => {
  await ctx.db.collection('prs').insert({ number: ctx.request.body.number, action: ctx.request.body.action });
  return { event: 'pull_request', number: ctx.request.body.number as number };
};
`.replace("import type { HandlerContext } from '../src-types';\n", '');

/** fetch's json() is typed unknown; these tests read known shapes. */
const json = async (response: Response | Promise<Response>): Promise<any> => (await response).json();

describe('inbound gateway', () => {
  let hy: TestHookyard;
  let receiver: Receiver;

  const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}, method = 'POST') =>
    fetch(`${hy.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body });

  const githubPost = async (source: string, name: string, delivery: string, payload: object = example(name), secret = GITHUB_SECRET) => {
    const body = JSON.stringify(payload);
    return post(`/in/${source}`, body, {
      'x-github-event': name,
      'x-github-delivery': delivery,
      'x-hub-signature-256': await githubSign(secret, body),
    });
  };

  const requestOf = (source: string, id: string) => hy.api('GET', `/api/v1/sources/${source}/requests/${id}`).then((r) => r.body);
  const processed = (source: string, id: string) =>
    waitFor(() => requestOf(source, id), (r) => r.processing?.status === 'succeeded' || r.processing?.status === 'failed', 10_000);

  beforeAll(async () => {
    hy = await startTestHookyard({ HOOKYARD_MAX_BODY_BYTES: '65536', HOOKYARD_SYNC_RESPONSE_TIMEOUT_MS: '300' });
    receiver = await Receiver.start();
    mkdirSync(join(hy.dir, 'handlers'), { recursive: true });
    writeFileSync(join(hy.dir, 'handlers', 'github.ts'), HANDLER);
    const created = await hy.api('POST', '/api/v1/sources', { name: 'github', verification: { type: 'github', secret: GITHUB_SECRET } });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await hy?.stop();
    await receiver?.close();
  });

  describe('sources API', () => {
    it('creates a source with its receiving URL and never returns its secrets', async () => {
      const res = await hy.api('POST', '/api/v1/sources', {
        name: 'shop', methods: ['post', 'PUT'], verification: { type: 'shopify', secrets: ['s1', 's2'] }, ipAllowlist: ['10.0.0.0/8', '::1'],
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name: 'shop', url: `${hy.url}/in/shop`, methods: ['POST', 'PUT'], verification: { type: 'shopify', secrets: ['********', '********'] } });
      expect(JSON.stringify(res.body)).not.toContain('s1');
      expect((await hy.api('GET', '/api/v1/sources/shop')).body.id).toBe(res.body.id);
      expect((await hy.api('GET', `/api/v1/sources/${res.body.id}`)).body.name).toBe('shop');
      const list = await hy.api('GET', '/api/v1/sources?limit=1');
      expect(list.body.data).toHaveLength(1);
      expect(list.body.nextCursor).toEqual(expect.any(String));
    });

    it('refuses bad settings with 422 naming the field, and a taken name with 409', async () => {
      const bad = async (body: object) => hy.api('POST', '/api/v1/sources', body);
      expect(await bad({ name: 'has space' })).toMatchObject({ status: 422, body: { code: 'validation_error' } });
      expect((await bad({ name: 'x1', verification: { type: 'nope', secret: 'a' } })).body.message).toContain('verification/type');
      expect((await bad({ name: 'x2', verification: { type: 'github' } })).status).toBe(422);
      expect((await bad({ name: 'x3', ipAllowlist: ['10.0.0.0/33'] })).body.message).toContain('ipAllowlist');
      expect((await bad({ name: 'x4', methods: ['TRACE'] })).status).toBe(422);
      expect((await bad({ name: 'x5', dedup: { jsonPath: 'id' } })).status).toBe(422);
      expect((await bad({ name: 'x6', handler: '../etc/passwd' })).status).toBe(422);
      expect((await bad({ name: 'x7', forward: [{ url: 'ftp://x' }] })).status).toBe(422);
      expect((await bad({ name: 'x8', unknown: true })).status).toBe(422);
      expect(await bad({ name: 'github' })).toMatchObject({ status: 409, body: { code: 'conflict' } });
    });

    it('is for the admin token only', async () => {
      const app = await hy.api('POST', '/api/v1/apps', { name: 'tenant' });
      const key = await hy.api('POST', `/api/v1/apps/${app.body.id}/keys`, { name: 'k' });
      expect((await hy.api('GET', '/api/v1/sources', undefined, { token: key.body.token })).status).toBe(403);
      expect((await hy.api('GET', '/api/v1/sources', undefined, { token: null })).status).toBe(401);
    });

    it('keeps the stored secret when a client sends the redacted verification back', async () => {
      await hy.api('POST', '/api/v1/sources', { name: 'roundtrip', verification: { type: 'github', secret: 'the-real-secret' } });
      const read = (await hy.api('GET', '/api/v1/sources/roundtrip')).body;
      expect(read.verification.secret).toBe('********');
      expect((await hy.api('PATCH', '/api/v1/sources/roundtrip', { description: 'x', verification: read.verification })).status).toBe(200);
      const body = '{"zen":"ok"}';
      const res = await post('/in/roundtrip', body, { 'x-hub-signature-256': await githubSign('the-real-secret', body) });
      expect(res.status).toBe(202);
    });

    it('updates and deletes a source with its request log', async () => {
      await hy.api('POST', '/api/v1/sources', { name: 'temp' });
      const first = await json(post('/in/temp', '{}'));
      const patched = await hy.api('PATCH', '/api/v1/sources/temp', { name: 'temp2', description: 'renamed' });
      expect(patched.body).toMatchObject({ name: 'temp2', description: 'renamed' });
      expect((await hy.api('GET', `/api/v1/sources/temp2/requests/${first.id}`)).status).toBe(200);
      expect((await hy.api('DELETE', '/api/v1/sources/temp2')).status).toBe(204);
      expect((await hy.api('GET', '/api/v1/sources/temp2')).status).toBe(404);
      // The old name no longer receives anything.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await post('/in/temp', '{}')).status).toBe(404);
    });
  });

  describe('receiving', () => {
    it('accepts a signed GitHub push after committing it, byte-exact, and processes it with the handler', async () => {
      const res = await githubPost('github', 'push', 'd-push-1');
      expect(res.status).toBe(202);
      const { id } = await json(res);
      expect(id).toMatch(/^req_/);
      const record = await processed('github', id);
      expect(record).toMatchObject({ status: 'accepted', verified: true, method: 'POST', responseStatus: 202, headers: { 'x-github-event': 'push' } });
      expect(record.body).toBe(JSON.stringify(example('push')));
      expect(record.processing).toMatchObject({ status: 'succeeded', output: { event: 'push', pushesSeen: 1 }, error: null });
      expect(record.processing.durationMs).toEqual(expect.any(Number));
    });

    it('runs the per-event export for pull_request and writes to db', async () => {
      const { id } = await json(githubPost('github', 'pull_request', 'd-pr-1'));
      const record = await processed('github', id);
      expect(record.processing).toMatchObject({ status: 'succeeded', output: { event: 'pull_request', number: (example('pull_request') as { number: number }).number } });
    });

    it('refuses a tampered body, a wrong secret and a missing signature with 401, and stores them as rejected', async () => {
      const body = JSON.stringify(example('push'));
      const signature = await githubSign(GITHUB_SECRET, body);
      const tampered = await post('/in/github', body.replace('"ref"', '"REF"'), { 'x-hub-signature-256': signature, 'x-github-delivery': 't1' });
      expect(tampered.status).toBe(401);
      const error = await json(tampered);
      expect(error.code).toBe('invalid_signature');
      expect(JSON.stringify(error)).not.toContain(signature.slice(7));
      expect((await githubPost('github', 'push', 't2', example('push'), 'wrong secret')).status).toBe(401);
      expect((await post('/in/github', body)).status).toBe(401);
      const rejected = await hy.api('GET', '/api/v1/sources/github/requests?status=rejected');
      expect(rejected.body.data.length).toBeGreaterThanOrEqual(3);
      expect(rejected.body.data[0]).toMatchObject({ status: 'rejected', verified: false, responseStatus: 401, processing: { status: 'none' } });
    });

    it('deduplicates by X-GitHub-Delivery, also for copies arriving at the same moment', async () => {
      const first = await json(githubPost('github', 'push', 'd-dup-1'));
      const again = await githubPost('github', 'push', 'd-dup-1');
      expect(again.status).toBe(200);
      expect(await json(again)).toEqual({ id: first.id, duplicate: true });

      const copies = await Promise.all(Array.from({ length: 20 }, () => githubPost('github', 'push', 'd-dup-2')));
      const bodies = await Promise.all(copies.map((r) => json(r)));
      expect(copies.filter((r) => r.status === 202)).toHaveLength(1);
      const winner = bodies.find((b) => b.duplicate === undefined)!.id;
      expect(bodies.filter((b) => b.duplicate === true).every((b) => b.id === winner)).toBe(true);
      const duplicates = await hy.api('GET', '/api/v1/sources/github/requests?status=duplicate&limit=250');
      expect(duplicates.body.data.filter((r: { duplicateOf: string }) => r.duplicateOf === winner)).toHaveLength(19);
    });

    it('serves the /webhooks alias with sub-paths and keeps method, path and query', async () => {
      await hy.api('POST', '/api/v1/sources', { name: 'bin', methods: ['GET', 'POST', 'DELETE'] });
      const res = await fetch(`${hy.url}/webhooks/bin/orders/42?x=1&x=2&y=z`, { method: 'DELETE' });
      expect(res.status).toBe(202);
      const record = await requestOf('bin', (await json(res)).id);
      expect(record).toMatchObject({ method: 'DELETE', path: 'orders/42', query: { x: ['1', '2'], y: 'z' }, verified: null });
    });

    it('answers 405 for a method the source does not take, 404 for an unknown source, and stores the 405', async () => {
      const res = await post('/in/github', '{}', {}, 'PUT');
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      expect((await json(res)).code).toBe('method_not_allowed');
      expect((await post('/in/no-such-source', '{}')).status).toBe(404);
      const rejected = await hy.api('GET', '/api/v1/sources/github/requests?status=rejected&limit=1');
      expect(rejected.body.data[0]).toMatchObject({ method: 'PUT', responseStatus: 405 });
    });

    it('applies the IP allowlist (IPv4 and IPv6 CIDR) and stores refusals', async () => {
      await hy.api('POST', '/api/v1/sources', { name: 'private', ipAllowlist: ['10.0.0.0/8', 'fd00::/8'] });
      await hy.api('POST', '/api/v1/sources', { name: 'local', ipAllowlist: ['127.0.0.0/8'] });
      const refused = await post('/in/private', '{}');
      expect(refused.status).toBe(403);
      expect((await json(refused)).code).toBe('ip_not_allowed');
      expect((await hy.api('GET', '/api/v1/sources/private/requests')).body.data[0]).toMatchObject({ status: 'rejected', responseStatus: 403 });
      expect((await post('/in/local', '{}')).status).toBe(202);
    });

    it('answers 413 for a body over the limit and stores the refusal without the body', async () => {
      await hy.api('POST', '/api/v1/sources', { name: 'small' });
      const res = await post('/in/small', Buffer.alloc(70_000, 0x61), { 'content-type': 'application/octet-stream' });
      expect(res.status).toBe(413);
      expect((await json(res)).code).toBe('payload_too_large');
      const [record] = (await hy.api('GET', '/api/v1/sources/small/requests')).body.data;
      expect(record).toMatchObject({ status: 'rejected', responseStatus: 413, body: '' });
    });

    it('stores binary, form and text bodies byte-exact', async () => {
      await hy.api('POST', '/api/v1/sources', { name: 'bodies' });
      const binary = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 0x7f]);
      const bin = await json(post('/in/bodies', binary, { 'content-type': 'application/octet-stream' }));
      expect(await requestOf('bodies', bin.id)).toMatchObject({ body: binary.toString('base64'), bodyEncoding: 'base64' });
      const form = await json(post('/in/bodies', 'a=1&b=%C3%A9', { 'content-type': 'application/x-www-form-urlencoded' }));
      expect(await requestOf('bodies', form.id)).toMatchObject({ body: 'a=1&b=%C3%A9', bodyEncoding: 'utf8' });
      const invalidJson = await json(post('/in/bodies', '{"unterminated": '));
      expect(await requestOf('bodies', invalidJson.id)).toMatchObject({ body: '{"unterminated": ', status: 'accepted' });
    });
  });

  describe('providers verified end to end with their own SDKs', () => {
    it('Stripe: generateTestHeaderString signs, the event id deduplicates', async () => {
      const secret = 'whsec_test_stripe_secret';
      await hy.api('POST', '/api/v1/sources', { name: 'stripe', verification: { type: 'stripe', secret } });
      const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'charge.succeeded' });
      const header = Stripe.webhooks.generateTestHeaderString({ payload, secret });
      const first = await post('/in/stripe', payload, { 'stripe-signature': header });
      expect(first.status).toBe(202);
      const dup = await post('/in/stripe', payload, { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret }) });
      expect(await json(dup)).toEqual({ id: (await json(first)).id, duplicate: true });
      const stale = Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Math.floor(Date.now() / 1000) - 3600 });
      expect((await post('/in/stripe', payload, { 'stripe-signature': stale })).status).toBe(401);
    });

    it('Twilio: a form POST signed over the URL Hookyard was addressed with', async () => {
      const authToken = 'twilio-auth-token-123';
      await hy.api('POST', '/api/v1/sources', { name: 'twilio', verification: { type: 'twilio', secret: authToken } });
      const params = { From: '+15551234567', Body: 'hello', MessageSid: 'SM1' };
      const url = `${hy.url}/in/twilio`;
      const signature = twilio.getExpectedTwilioSignature(authToken, url, params);
      const body = new URLSearchParams(params).toString();
      const ok = await post('/in/twilio', body, { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature });
      expect(ok.status).toBe(202);
      const bad = await post('/in/twilio', body.replace('hello', 'HELLO'), { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature });
      expect(bad.status).toBe(401);
    });

    it('Standard Webhooks: the standardwebhooks package signs, webhook-id deduplicates', async () => {
      const secret = `whsec_${Buffer.from('standard-webhooks-secret-32-bytes!').toString('base64')}`;
      await hy.api('POST', '/api/v1/sources', { name: 'std', verification: { type: 'standard-webhooks', secret } });
      const body = JSON.stringify({ type: 'user.created', data: { id: 1 } });
      const now = new Date();
      const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new StandardWebhook(secret).sign('msg_1', now, body) };
      const first = await post('/in/std', body, headers);
      expect(first.status).toBe(202);
      expect((await post('/in/std', body, headers)).status).toBe(200);
    });

    it('Zoom: answers endpoint.url_validation with the encrypted token', async () => {
      const secret = 'zoom-secret-token';
      await hy.api('POST', '/api/v1/sources', { name: 'zoom', verification: { type: 'zoom', secret } });
      const body = JSON.stringify({ event: 'endpoint.url_validation', payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' } });
      const ts = String(Math.floor(Date.now() / 1000));
      const signature = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
      const res = await post('/in/zoom', body, { 'x-zm-request-timestamp': ts, 'x-zm-signature': signature });
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual({ plainToken: 'qgg8vlvZRS6UYooatFL8Aw', encryptedToken: createHmac('sha256', secret).update('qgg8vlvZRS6UYooatFL8Aw').digest('hex') });
    });
  });

  describe('response modes and processing', () => {
    it('answers with a fixed custom response', async () => {
      await hy.api('POST', '/api/v1/sources', { name: 'fixed', response: { mode: 'sync', status: 200, headers: { 'x-custom': 'yes' }, body: 'OK' } });
      const res = await post('/in/fixed', '{}');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-custom')).toBe('yes');
      expect(await res.text()).toBe('OK');
    });

    it("answers a sync source with its handler's result, and falls back to 202 when the handler is slow", async () => {
      writeFileSync(join(hy.dir, 'handlers', 'sync_payments.ts'), `
        export default async (ctx: { request: { body: { amount: number; slow?: boolean } } }) => {
          if (ctx.request.body.slow) await new Promise((r) => setTimeout(r, 800));
          return { status: 201, headers: { 'x-handled': 'true' }, body: { charged: ctx.request.body.amount } };
        };`);
      await hy.api('POST', '/api/v1/sources', { name: 'sync_payments', response: { mode: 'sync' } });
      const res = await post('/webhooks/sync_payments', JSON.stringify({ amount: 42 }));
      expect(res.status).toBe(201);
      expect(res.headers.get('x-handled')).toBe('true');
      expect(await json(res)).toEqual({ charged: 42 });

      const slow = await post('/webhooks/sync_payments', JSON.stringify({ amount: 7, slow: true }));
      expect(slow.status).toBe(202);
      const record = await processed('sync_payments', (await json(slow)).id);
      expect(record.processing).toMatchObject({ status: 'succeeded', output: { status: 201, body: { charged: 7 } } });
    });

    it('records a throwing handler as failed, and replay runs it again', async () => {
      const file = join(hy.dir, 'handlers', 'flaky.mjs');
      writeFileSync(file, `export default async () => { throw new Error('database is down'); };`);
      await hy.api('POST', '/api/v1/sources', { name: 'flaky' });
      const { id } = await json(post('/in/flaky', '{"n":1}'));
      const failed = await processed('flaky', id);
      expect(failed.processing).toMatchObject({ status: 'failed', error: 'Error: database is down' });
      writeFileSync(file, `export default async (ctx) => ({ ok: ctx.request.body.n });`);
      const later = new Date(Date.now() + 5_000);
      (await import('node:fs')).utimesSync(file, later, later);
      expect((await hy.api('POST', `/api/v1/sources/flaky/requests/${id}/replay`)).status).toBe(202);
      const replayed = await waitFor(() => requestOf('flaky', id), (r) => r.processing.status === 'succeeded', 10_000);
      expect(replayed.processing.output).toEqual({ ok: 1 });
      expect((await hy.api('POST', '/api/v1/sources/flaky/requests/req_nope/replay')).status).toBe(404);
    });

    it('forwards to a URL (signed like any message) and to an app event type', async () => {
      const app = await hy.api('POST', '/api/v1/apps', { name: 'downstream', uid: 'downstream' });
      await hy.api('POST', `/api/v1/apps/${app.body.id}/endpoints`, { url: `${receiver.url}/app-endpoint` });
      const source = await hy.api('POST', '/api/v1/sources', {
        name: 'relay', forward: [{ url: `${receiver.url}/forwarded` }, { app: 'downstream', eventType: 'relay.received' }],
      });
      expect(source.status).toBe(201);
      const { id } = await json(post('/in/relay', JSON.stringify({ order: 7 })));
      await receiver.waitFor(1, '/forwarded');
      await receiver.waitFor(1, '/app-endpoint');
      const forwarded = receiver.at('/forwarded')[0]!;
      expect(JSON.parse(forwarded.body)).toEqual({ order: 7 });
      // The forward endpoint lives in the source's hidden app; its secret verifies the signature.
      const fwdApp = await hy.api('GET', `/api/v1/apps/hookyard-forward-${source.body.id}`);
      const [endpoint] = (await hy.api('GET', `/api/v1/apps/${fwdApp.body.id}/endpoints`)).body.data;
      const { key } = (await hy.api('GET', `/api/v1/apps/${fwdApp.body.id}/endpoints/${endpoint.id}/secret`)).body;
      expect(() => new StandardWebhook(key).verify(forwarded.body, forwarded.headers as Record<string, string>)).not.toThrow();
      expect(JSON.parse(receiver.at('/app-endpoint')[0]!.body)).toEqual({ order: 7 });
      const record = await processed('relay', id);
      expect(record.processing.output.messages).toHaveLength(2);
    });
  });

  it('streams new requests as Server-Sent Events', async () => {
    await hy.api('POST', '/api/v1/sources', { name: 'live' });
    const controller = new AbortController();
    const res = await fetch(`${hy.url}/api/v1/sources/live/stream`, { headers: { authorization: 'Bearer test-admin-token-0123456789' }, signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const { id } = await json(post('/in/live', '{"hello":"stream"}'));
    let text = '';
    while (!text.includes(`id: ${id}`)) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('event: request');
    expect(text).toContain('\\"hello\\":\\"stream\\"');
    controller.abort();
  });
});
