import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { sign as githubSign } from '@octokit/webhooks-methods';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHookyard, type TestHookyard } from './helpers/hookyard.js';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];
const githubPush = JSON.stringify(examples.find((d) => d.name === 'push')!.examples[0]);

const mac = (algorithm: string, key: string | Buffer, data: string, encoding: 'hex' | 'base64') =>
  createHmac(algorithm, key).update(data).digest(encoding);
const STALE = 3_600; // seconds: far outside the default 300 s tolerance

interface Signed {
  body: string;
  headers: Record<string, string>;
}

/**
 * One row per provider: how it signs (with the provider's own library where one exists), the secret it uses, and
 * whether it carries a delivery id (then a second copy is a duplicate). `sign(secret, id, ageSeconds)`.
 */
interface Provider {
  type: string;
  secret: string;
  /** A well-formed secret that is not the source's (default: any other string). */
  wrongSecret?: string;
  config?: Record<string, unknown>;
  contentType?: string;
  sign(secret: string, id: string, ageSeconds: number, url: string): Promise<Signed> | Signed;
  dedup: boolean;
  timestamped: boolean;
}

const now = () => Math.floor(Date.now() / 1000);
const json = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({ id, event_id: id, type: 'test.event', ...extra });

const PROVIDERS: Provider[] = [
  {
    type: 'github', secret: 'gh-secret', dedup: true, timestamped: false,
    sign: async (secret, id) => ({ body: githubPush, headers: { 'x-github-event': 'push', 'x-github-delivery': id, 'x-hub-signature-256': await githubSign(secret, githubPush) } }),
  },
  {
    type: 'stripe', secret: 'whsec_stripe_test', dedup: true, timestamped: true,
    sign: (secret, id, age) => {
      const body = json(id);
      return { body, headers: { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: now() - age }) } };
    },
  },
  {
    type: 'shopify', secret: 'shpss_secret', dedup: true, timestamped: false,
    sign: (secret, id) => {
      const body = json(id);
      return { body, headers: { 'x-shopify-hmac-sha256': mac('sha256', secret, body, 'base64'), 'x-shopify-webhook-id': id } };
    },
  },
  {
    type: 'slack', secret: 'slack-signing-secret', dedup: false, timestamped: true,
    sign: (secret, id, age) => {
      const body = json(id);
      const ts = String(now() - age);
      return { body, headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${mac('sha256', secret, `v0:${ts}:${body}`, 'hex')}` } };
    },
  },
  {
    type: 'twilio', secret: 'twilio-auth-token', dedup: false, timestamped: false, contentType: 'application/x-www-form-urlencoded',
    sign: (secret, id, _age, url) => {
      const params = { MessageSid: id, Body: 'hello', From: '+15550001111' };
      return { body: new URLSearchParams(params).toString(), headers: { 'x-twilio-signature': twilio.getExpectedTwilioSignature(secret, url, params) } };
    },
  },
  {
    type: 'standard-webhooks', secret: `whsec_${Buffer.from('a-standard-webhooks-secret-32by').toString('base64')}`, dedup: true, timestamped: true,
    wrongSecret: `whsec_${Buffer.from('another-standard-webhooks-secret').toString('base64')}`,
    sign: (secret, id, age) => {
      const body = json(id);
      const at = new Date((now() - age) * 1000);
      return { body, headers: { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new StandardWebhook(secret).sign(id, at, body) } };
    },
  },
  {
    type: 'polar', secret: 'polar-signature-secret', dedup: false, timestamped: false,
    sign: (secret, id) => {
      const body = json(id);
      return { body, headers: { 'polar-webhook-event': 'EXERCISE', 'polar-webhook-signature': mac('sha256', secret, body, 'hex') } };
    },
  },
  {
    type: 'zoom', secret: 'zoom-secret-token', dedup: false, timestamped: true,
    sign: (secret, id, age) => {
      const body = json(id, { event: 'meeting.started' });
      const ts = String(now() - age);
      return { body, headers: { 'x-zm-request-timestamp': ts, 'x-zm-signature': `v0=${mac('sha256', secret, `v0:${ts}:${body}`, 'hex')}` } };
    },
  },
  {
    type: 'paddle', secret: 'pdl_ntfset_secret', dedup: false, timestamped: true,
    sign: (secret, id, age) => {
      const body = json(id);
      const ts = String(now() - age);
      return { body, headers: { 'paddle-signature': `ts=${ts};h1=${mac('sha256', secret, `${ts}:${body}`, 'hex')}` } };
    },
  },
  {
    type: 'square', secret: 'square-signature-key', dedup: true, timestamped: false,
    sign: (secret, id, _age, url) => {
      const body = json(id);
      return { body, headers: { 'x-square-hmacsha256-signature': mac('sha256', secret, url + body, 'base64') } };
    },
  },
  {
    type: 'linear', secret: 'lin_wh_secret', dedup: true, timestamped: true,
    sign: (secret, id, age) => {
      const body = json(id, { webhookTimestamp: (now() - age) * 1000 });
      return { body, headers: { 'linear-delivery': id, 'linear-signature': mac('sha256', secret, body, 'hex') } };
    },
  },
  {
    type: 'intercom', secret: 'intercom-client-secret', dedup: false, timestamped: false,
    sign: (secret, id) => {
      const body = json(id);
      return { body, headers: { 'x-hub-signature': `sha1=${mac('sha1', secret, body, 'hex')}` } };
    },
  },
  {
    type: 'hmac', secret: 'generic-secret', dedup: false, timestamped: false,
    config: { header: 'X-Signature', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=' },
    sign: (secret, id) => {
      const body = json(id);
      return { body, headers: { 'x-signature': `sha512=${mac('sha512', secret, body, 'base64')}` } };
    },
  },
];

/** Every verification type through HTTP: accepted, refused and stored as rejected, stale refused, copies deduplicated. */
describe('inbound providers end to end', () => {
  let hy: TestHookyard;

  beforeAll(async () => {
    hy = await startTestHookyard();
  });
  afterAll(async () => {
    await hy?.stop();
  });

  const send = (name: string, signed: Signed, contentType = 'application/json') =>
    fetch(`${hy.url}/in/${name}`, { method: 'POST', headers: { 'content-type': contentType, ...signed.headers }, body: signed.body });

  for (const provider of PROVIDERS) {
    it(`${provider.type}: valid → 202; tampered, wrong secret${provider.timestamped ? ', stale' : ''} → 401 stored as rejected${provider.dedup ? '; copy → duplicate' : ''}`, async () => {
      const name = `p-${provider.type}`;
      const created = await hy.api('POST', '/api/v1/sources', { name, verification: { type: provider.type, secret: provider.secret, ...provider.config } });
      expect(created.status).toBe(201);
      const url = `${hy.url}/in/${name}`;
      const id = `delivery-${provider.type}-1`;

      const valid = await provider.sign(provider.secret, id, 0, url);
      const accepted = await send(name, valid, provider.contentType);
      expect(accepted.status).toBe(202);
      const { id: requestId } = (await accepted.json()) as { id: string };

      const tampered = { ...valid, body: valid.body.replace(/1/, '2') };
      expect(tampered.body).not.toBe(valid.body);
      const refusals = [send(name, tampered, provider.contentType), send(name, await provider.sign(provider.wrongSecret ?? 'not-the-secret', 'x2', 0, url), provider.contentType)];
      if (provider.timestamped) refusals.push(send(name, await provider.sign(provider.secret, 'x3', STALE, url), provider.contentType));
      for (const refused of await Promise.all(refusals)) {
        expect(refused.status).toBe(401);
        expect(((await refused.json()) as { code: string }).code).toBe('invalid_signature');
      }
      const rejected = await hy.api('GET', `/api/v1/sources/${name}/requests?status=rejected`);
      expect(rejected.body.data).toHaveLength(refusals.length);
      expect(rejected.body.data.every((r: { verified: boolean; responseStatus: number }) => r.verified === false && r.responseStatus === 401)).toBe(true);

      if (provider.dedup) {
        const copy = await send(name, await provider.sign(provider.secret, id, 0, url), provider.contentType);
        expect(copy.status).toBe(200);
        expect(await copy.json()).toEqual({ id: requestId, duplicate: true });
      }
      const record = await hy.api('GET', `/api/v1/sources/${name}/requests/${requestId}`);
      expect(record.body).toMatchObject({ status: 'accepted', verified: true, body: valid.body });
    });
  }
});
