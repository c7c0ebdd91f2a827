import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { sign as githubSign } from '@octokit/webhooks-methods';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import Stripe from 'stripe';
import twilio from 'twilio';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { VERIFICATION_TYPES, presetFor } from '../src/inbound/verify/index.js';
import type { InboundRequest, VerificationConfig, VerificationPreset, VerifyOutcome } from '../src/inbound/verify/preset.js';

// The examples package's main is a JSON file; require keeps it loadable outside vite too.
const githubExamples = createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];

const NOW_MS = Date.UTC(2026, 2, 1, 12, 0, 0);
const NOW_S = NOW_MS / 1000;
const STALE_S = NOW_S - 301;
const URL_ = 'https://hooks.example.com/in/src_01?tenant=acme';

function preset(type: string): VerificationPreset {
  const found = presetFor(type);
  if (found === undefined) throw new Error(`no preset ${type}`);
  return found;
}

function request(init: { headers: Record<string, string>; body: string | Buffer; url?: string; nowMs?: number }): InboundRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(init.headers)) headers[name.toLowerCase()] = value;
  return {
    method: 'POST',
    url: init.url ?? URL_,
    headers,
    rawBody: Buffer.isBuffer(init.body) ? init.body : Buffer.from(init.body, 'utf8'),
    nowMs: init.nowMs ?? NOW_MS,
  };
}

function mac(algorithm: string, key: string | Buffer, data: string | Buffer, encoding: 'hex' | 'base64'): string {
  return createHmac(algorithm, key).update(data).digest(encoding);
}

function reasonOf(outcome: VerifyOutcome): string {
  expect(outcome.ok).toBe(false);
  return outcome.ok ? '' : outcome.reason;
}

/** Long tokens of a signature header value (digests), which a failure reason must never echo. */
function digestsIn(headerValue: string): string[] {
  return headerValue.split(/[\s,;=]+/).filter((token) => token.length >= 12);
}

// ---------------------------------------------------------------------------------------------
// One table drives the checks every signed scheme must pass. Each case signs the way the provider
// does (with the provider's SDK where one exists) and says which headers carry the signature.

interface SignedCase {
  type: string;
  /** Extra config fields besides secret/secrets. */
  extra?: Record<string, unknown>;
  /** Three distinct valid secrets: [primary, rotated, attacker]. */
  secrets?: [string, string, string];
  body(tsSeconds: number): string;
  sign(secret: string, body: string, tsSeconds: number): Promise<Record<string, string>> | Record<string, string>;
  /** Headers whose absence must fail verification. */
  required: string[];
  /** Header holding the signature (for the reason-leak check). */
  signatureHeader: string;
  timestamped: boolean;
  deliveryId?: string;
}

const jsonBody = (extra: Record<string, unknown> = {}) => () => JSON.stringify({ event: 'thing.happened', n: 1, ...extra });

const hex256 = (key: string, data: string) => mac('sha256', key, data, 'hex');

const SW_SECRETS: [string, string, string] = [
  `whsec_${randomBytes(24).toString('base64')}`,
  `whsec_${randomBytes(32).toString('base64')}`,
  `whsec_${randomBytes(24).toString('base64')}`,
];

const TWILIO_FORM = 'CallSid=CA1234567890abcdef&From=%2B15551234567&To=%2B15557654321&Body=Hello+w%C3%B6rld%21';

const CASES: SignedCase[] = [
  {
    type: 'github',
    body: jsonBody({ zen: 'Keep it logically awesome.' }),
    sign: async (secret, body) => ({
      'X-Hub-Signature-256': await githubSign(secret, body),
      'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'X-GitHub-Event': 'ping',
    }),
    required: ['X-Hub-Signature-256'],
    signatureHeader: 'X-Hub-Signature-256',
    timestamped: false,
    deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
  },
  {
    type: 'stripe',
    secrets: ['whsec_primary0123456789', 'whsec_rotated0123456789', 'whsec_attacker0123456789'],
    body: () => JSON.stringify({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy', object: 'event', type: 'invoice.paid' }),
    sign: (secret, payload, timestamp) => ({
      'Stripe-Signature': Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }),
    }),
    required: ['Stripe-Signature'],
    signatureHeader: 'Stripe-Signature',
    timestamped: true,
    deliveryId: 'evt_1NG8Du2eZvKYlo2CUI79vXWy',
  },
  {
    type: 'shopify',
    body: jsonBody({ id: 820982911946154500 }),
    sign: (secret, body) => ({
      'X-Shopify-Hmac-Sha256': mac('sha256', secret, body, 'base64'),
      'X-Shopify-Webhook-Id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
      'X-Shopify-Topic': 'orders/create',
    }),
    required: ['X-Shopify-Hmac-Sha256'],
    signatureHeader: 'X-Shopify-Hmac-Sha256',
    timestamped: false,
    deliveryId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
  },
  {
    type: 'slack',
    body: () => 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fweather&text=94070',
    sign: (secret, body, ts) => ({
      'X-Slack-Signature': `v0=${hex256(secret, `v0:${ts}:${body}`)}`,
      'X-Slack-Request-Timestamp': String(ts),
    }),
    required: ['X-Slack-Signature', 'X-Slack-Request-Timestamp'],
    signatureHeader: 'X-Slack-Signature',
    timestamped: true,
  },
  {
    type: 'twilio',
    body: () => TWILIO_FORM,
    sign: (secret, body) => ({
      'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
      'X-Twilio-Signature': twilio.getExpectedTwilioSignature(secret, URL_, Object.fromEntries(new URLSearchParams(body))),
    }),
    required: ['X-Twilio-Signature'],
    signatureHeader: 'X-Twilio-Signature',
    timestamped: false,
  },
  {
    type: 'standard-webhooks',
    secrets: SW_SECRETS,
    body: jsonBody(),
    sign: (secret, body, ts) => ({
      'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      'webhook-timestamp': String(ts),
      'webhook-signature': new StandardWebhook(secret).sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', new Date(ts * 1000), body),
    }),
    required: ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
    signatureHeader: 'webhook-signature',
    timestamped: true,
    deliveryId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
  },
  {
    type: 'polar',
    body: () => JSON.stringify({ event: 'EXERCISE', user_id: 475, entity_id: 'aQlC83', timestamp: '2018-05-15T14:22:24Z' }),
    sign: (secret, body) => ({ 'Polar-Webhook-Signature': hex256(secret, body), 'Polar-Webhook-Event': 'EXERCISE' }),
    required: ['Polar-Webhook-Signature'],
    signatureHeader: 'Polar-Webhook-Signature',
    timestamped: false,
  },
  {
    type: 'zoom',
    body: (ts) => JSON.stringify({ event: 'meeting.started', event_ts: ts * 1000, payload: { account_id: 'AAAAAA' } }),
    sign: (secret, body, ts) => ({
      'x-zm-signature': `v0=${hex256(secret, `v0:${ts}:${body}`)}`,
      'x-zm-request-timestamp': String(ts),
    }),
    required: ['x-zm-signature', 'x-zm-request-timestamp'],
    signatureHeader: 'x-zm-signature',
    timestamped: true,
  },
  {
    type: 'paddle',
    body: jsonBody({ event_id: 'evt_01h8bzakzx3hm2fmen703n5q45' }),
    sign: (secret, body, ts) => ({ 'Paddle-Signature': `ts=${ts};h1=${hex256(secret, `${ts}:${body}`)}` }),
    required: ['Paddle-Signature'],
    signatureHeader: 'Paddle-Signature',
    timestamped: true,
  },
  {
    type: 'square',
    body: () => JSON.stringify({ merchant_id: 'ML8M1AQ1GQG2K', type: 'payment.created', event_id: '6a8f5f28-54a1-4eb0-a98a-3111513fd4fc' }),
    sign: (secret, body) => ({ 'x-square-hmacsha256-signature': mac('sha256', secret, URL_ + body, 'base64') }),
    required: ['x-square-hmacsha256-signature'],
    signatureHeader: 'x-square-hmacsha256-signature',
    timestamped: false,
    deliveryId: '6a8f5f28-54a1-4eb0-a98a-3111513fd4fc',
  },
  {
    type: 'linear',
    body: (ts) => JSON.stringify({ action: 'create', type: 'Issue', data: { id: 'abc' }, webhookTimestamp: ts * 1000 }),
    sign: (secret, body) => ({ 'Linear-Signature': hex256(secret, body), 'Linear-Delivery': '234d1a4e-b617-4388-90fe-adc3633d6b72' }),
    required: ['Linear-Signature'],
    signatureHeader: 'Linear-Signature',
    timestamped: true,
    deliveryId: '234d1a4e-b617-4388-90fe-adc3633d6b72',
  },
  {
    type: 'intercom',
    body: jsonBody({ type: 'notification_event', topic: 'conversation.user.created' }),
    sign: (secret, body) => ({ 'X-Hub-Signature': `sha1=${mac('sha1', secret, body, 'hex')}` }),
    required: ['X-Hub-Signature'],
    signatureHeader: 'X-Hub-Signature',
    timestamped: false,
  },
  {
    type: 'hmac',
    extra: { header: 'X-Acme-Signature', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=' },
    body: jsonBody(),
    sign: (secret, body) => ({ 'X-Acme-Signature': `sha512=${mac('sha512', secret, body, 'base64')}` }),
    required: ['X-Acme-Signature'],
    signatureHeader: 'X-Acme-Signature',
    timestamped: false,
  },
];

describe.each(CASES)('$type preset', (c) => {
  const [primary, rotated, attacker] = c.secrets ?? ['primary-signing-secret', 'rotated-signing-secret', 'attacker-secret-123'];
  const config = (secret: string, secrets?: string[], more: Record<string, unknown> = {}): VerificationConfig => ({
    type: c.type,
    secret,
    ...(secrets === undefined ? {} : { secrets }),
    ...c.extra,
    ...more,
  });
  const signed = async (secret: string, ts = NOW_S, body = c.body(ts)) =>
    request({ headers: await c.sign(secret, body, ts), body });

  it('validates its config and requires a secret', () => {
    expect(preset(c.type).validate(config(primary))).toBeUndefined();
    const { secret: _omitted, ...withoutSecret } = config(primary);
    expect(preset(c.type).validate(withoutSecret)).toMatch(/secret/);
  });

  it('accepts a correctly signed request', async () => {
    expect(preset(c.type).verify(await signed(primary), config(primary))).toEqual({ ok: true });
  });

  it('rejects a tampered body', async () => {
    const body = c.body(NOW_S);
    const req = request({ headers: await c.sign(primary, body, NOW_S), body: `${body} ` });
    reasonOf(preset(c.type).verify(req, config(primary)));
  });

  it('rejects a signature made with another secret, without leaking the expected one', async () => {
    const body = c.body(NOW_S);
    const reason = reasonOf(preset(c.type).verify(await signed(attacker, NOW_S, body), config(primary)));
    const expected = (await c.sign(primary, body, NOW_S))[c.signatureHeader] ?? '';
    expect(digestsIn(expected).length).toBeGreaterThan(0);
    for (const digest of digestsIn(expected)) expect(reason).not.toContain(digest);
    expect(reason).not.toContain(primary);
    expect(reason).not.toContain(attacker);
  });

  it.each(c.required)('rejects a request without %s', async (name) => {
    const req = await signed(primary);
    const headers = { ...req.headers };
    delete headers[name.toLowerCase()];
    expect(reasonOf(preset(c.type).verify({ ...req, headers }, config(primary)))).toMatch(/missing|malformed/);
  });

  it('accepts any active secret (rotation)', async () => {
    const both = config(primary, [rotated]);
    expect(preset(c.type).verify(await signed(rotated), both)).toEqual({ ok: true });
    expect(preset(c.type).verify(await signed(primary), both)).toEqual({ ok: true });
    const listOnly: VerificationConfig = { type: c.type, secrets: [primary, rotated], ...c.extra };
    expect(preset(c.type).validate(listOnly)).toBeUndefined();
    expect(preset(c.type).verify(await signed(rotated), listOnly)).toEqual({ ok: true });
    reasonOf(preset(c.type).verify(await signed(attacker), both));
  });

  if (c.timestamped) {
    it('rejects a stale or future timestamp, honouring toleranceSeconds', async () => {
      const stale = await signed(primary, STALE_S);
      expect(reasonOf(preset(c.type).verify(stale, config(primary)))).toBe('timestamp outside tolerance');
      const future = await signed(primary, NOW_S + 301);
      expect(reasonOf(preset(c.type).verify(future, config(primary)))).toBe('timestamp outside tolerance');
      expect(preset(c.type).verify(await signed(primary, NOW_S - 299), config(primary))).toEqual({ ok: true });
      expect(preset(c.type).verify(stale, config(primary, undefined, { toleranceSeconds: 600 }))).toEqual({ ok: true });
      const strict = config(primary, undefined, { toleranceSeconds: 30 });
      reasonOf(preset(c.type).verify(await signed(primary, NOW_S - 31), strict));
    });
  }

  it(c.deliveryId === undefined ? 'has no delivery id' : 'extracts the delivery id', async () => {
    const id = preset(c.type).deliveryId?.(await signed(primary));
    expect(id).toBe(c.deliveryId);
  });
});

it('every signed type except basic/bearer/none is covered by the table above', () => {
  expect([...CASES.map((c) => c.type), 'basic', 'bearer', 'none'].sort()).toEqual([...VERIFICATION_TYPES].sort());
});

// ---------------------------------------------------------------------------------------------

describe('github with @octokit/webhooks-examples payloads', () => {
  const example = (name: string) => {
    const payload = githubExamples.find((d) => d.name === name)?.examples[0];
    expect(payload).toBeDefined();
    return JSON.stringify(payload, null, 2);
  };

  it.each(['push', 'pull_request'])('verifies a real %s payload signed by @octokit/webhooks-methods', async (name) => {
    const body = example(name);
    const headers = { 'X-Hub-Signature-256': await githubSign('It’s a Secret to Everybody', body), 'X-GitHub-Event': name };
    const config = { type: 'github', secret: 'It’s a Secret to Everybody' };
    expect(preset('github').verify(request({ headers, body }), config)).toEqual({ ok: true });
    // Re-serialising the same JSON changes the bytes, so it must no longer verify.
    const compact = JSON.stringify(JSON.parse(body));
    reasonOf(preset('github').verify(request({ headers, body: compact }), config));
  });

  it('matches GitHub’s documented test vector', () => {
    // docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody", payload "Hello, World!".
    const headers = { 'X-Hub-Signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
    const outcome = preset('github').verify(request({ headers, body: 'Hello, World!' }), {
      type: 'github',
      secret: "It's a Secret to Everybody",
    });
    expect(outcome).toEqual({ ok: true });
  });

  it('rejects the legacy sha1 header alone and a wrong prefix', () => {
    const body = 'Hello, World!';
    const config = { type: 'github', secret: 's' };
    expect(reasonOf(preset('github').verify(request({ headers: { 'X-Hub-Signature': `sha1=${mac('sha1', 's', body, 'hex')}` }, body }), config))).toBe(
      'missing X-Hub-Signature-256 header',
    );
    const wrongPrefix = { 'X-Hub-Signature-256': `sha1=${hex256('s', body)}` };
    expect(reasonOf(preset('github').verify(request({ headers: wrongPrefix, body }), config))).toBe(
      'malformed X-Hub-Signature-256 header',
    );
  });
});

describe('stripe specifics', () => {
  const secret = 'whsec_test_secret';
  const payload = JSON.stringify({ id: 'evt_test_webhook', object: 'event' });
  const header = (scheme?: string) => Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: NOW_S, ...(scheme ? { scheme } : {}) });

  it('accepts when any of several v1 entries matches, like Stripe during secret rolls', () => {
    const good = header();
    const bogus = `v1=${'0'.repeat(64)}`;
    const req = request({ headers: { 'Stripe-Signature': `${good.replace(',v1=', `,${bogus},v1=`)},v0=abc` }, body: payload });
    expect(preset('stripe').verify(req, { type: 'stripe', secret })).toEqual({ ok: true });
  });

  it('ignores v0 signatures (Stripe test-mode legacy scheme)', () => {
    const v0Only = header('v0');
    expect(reasonOf(preset('stripe').verify(request({ headers: { 'Stripe-Signature': v0Only }, body: payload }), { type: 'stripe', secret }))).toBe(
      'malformed Stripe-Signature header',
    );
  });

  it('agrees with stripe.webhooks.constructEvent on valid and stale headers', () => {
    const stripe = new Stripe('sk_test_dummy');
    const fresh = header();
    expect(() => stripe.webhooks.constructEvent(payload, fresh, secret, 300, undefined, NOW_MS)).not.toThrow();
    expect(preset('stripe').verify(request({ headers: { 'Stripe-Signature': fresh }, body: payload }), { type: 'stripe', secret }).ok).toBe(true);
    const stale = Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: STALE_S });
    expect(() => stripe.webhooks.constructEvent(payload, stale, secret, 300, undefined, NOW_MS)).toThrow();
    expect(preset('stripe').verify(request({ headers: { 'Stripe-Signature': stale }, body: payload }), { type: 'stripe', secret }).ok).toBe(false);
  });

  it('has no delivery id for a non-JSON body', () => {
    expect(preset('stripe').deliveryId?.(request({ headers: {}, body: 'not json' }))).toBeUndefined();
    expect(preset('stripe').deliveryId?.(request({ headers: {}, body: '{"id":42}' }))).toBeUndefined();
  });
});

describe('twilio specifics', () => {
  const token = '12345abcdef67890fedcba0987654321';
  const params = Object.fromEntries(new URLSearchParams(TWILIO_FORM));
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const config = { type: 'twilio', secret: token };

  it('agrees with twilio.validateRequest on a form webhook', () => {
    const signature = twilio.getExpectedTwilioSignature(token, URL_, params);
    expect(twilio.validateRequest(token, signature, URL_, params)).toBe(true);
    const req = request({ headers: { ...form, 'X-Twilio-Signature': signature }, body: TWILIO_FORM });
    expect(preset('twilio').verify(req, config)).toEqual({ ok: true });
  });

  it('signs repeated form keys as the SDK does (distinct values, sorted)', () => {
    const body = 'To=%2B1555&MediaUrl=https%3A%2F%2Fb&MediaUrl=https%3A%2F%2Fa&MediaUrl=https%3A%2F%2Fa';
    const signature = twilio.getExpectedTwilioSignature(token, URL_, { To: '+1555', MediaUrl: ['https://b', 'https://a', 'https://a'] });
    const req = request({ headers: { ...form, 'X-Twilio-Signature': signature }, body });
    expect(preset('twilio').verify(req, config)).toEqual({ ok: true });
  });

  it('tries the URL with and without the default port, as the SDK does', () => {
    const withPort = 'https://hooks.example.com:443/in/src_01?tenant=acme';
    const signedWithPort = twilio.getExpectedTwilioSignature(token, withPort, params);
    const signedWithout = twilio.getExpectedTwilioSignature(token, URL_, params);
    for (const [signature, url] of [
      [signedWithPort, URL_],
      [signedWithout, withPort],
    ] as const) {
      expect(twilio.validateRequest(token, signature, url, params)).toBe(true);
      const req = request({ url, headers: { ...form, 'X-Twilio-Signature': signature }, body: TWILIO_FORM });
      expect(preset('twilio').verify(req, config)).toEqual({ ok: true });
    }
    const otherHost = request({ url: 'https://evil.example.com/in/src_01?tenant=acme', headers: { ...form, 'X-Twilio-Signature': signedWithout }, body: TWILIO_FORM });
    expect(reasonOf(preset('twilio').verify(otherHost, config))).toBe('signature mismatch');
  });

  it('uses publicUrl in place of the proxied scheme, host and base path', () => {
    const publicFull = 'https://public.example.com/hookyard/in/src_01?tenant=acme';
    const signature = twilio.getExpectedTwilioSignature(token, publicFull, params);
    const internal = request({ url: 'http://10.0.0.5:3000/in/src_01?tenant=acme', headers: { ...form, 'X-Twilio-Signature': signature }, body: TWILIO_FORM });
    reasonOf(preset('twilio').verify(internal, config));
    for (const publicUrl of ['https://public.example.com/hookyard', 'https://public.example.com/hookyard/']) {
      expect(preset('twilio').validate({ ...config, publicUrl })).toBeUndefined();
      expect(preset('twilio').verify(internal, { ...config, publicUrl })).toEqual({ ok: true });
    }
  });

  describe('JSON bodies with bodySHA256', () => {
    const body = JSON.stringify({ sid: 'EV123', data: { status: 'delivered' } });
    const hashedUrl = (b: string) => `${URL_}&bodySHA256=${createHash('sha256').update(b).digest('hex')}`;
    const json = { 'Content-Type': 'application/json' };

    it('agrees with twilio.validateRequestWithBody', () => {
      const url = hashedUrl(body);
      const signature = twilio.getExpectedTwilioSignature(token, url, {});
      expect(twilio.validateRequestWithBody(token, signature, url, body)).toBe(true);
      const req = request({ url, headers: { ...json, 'X-Twilio-Signature': signature }, body });
      expect(preset('twilio').verify(req, config)).toEqual({ ok: true });
    });

    it('rejects a body that does not match bodySHA256 even though the URL signature is valid', () => {
      const url = hashedUrl(body);
      const signature = twilio.getExpectedTwilioSignature(token, url, {});
      const tampered = body.replace('delivered', 'failed');
      expect(twilio.validateRequestWithBody(token, signature, url, tampered)).toBe(false);
      const req = request({ url, headers: { ...json, 'X-Twilio-Signature': signature }, body: tampered });
      expect(reasonOf(preset('twilio').verify(req, config))).toBe('bodySHA256 mismatch');
    });

    it('rejects a non-form body the signature does not cover', () => {
      const signature = twilio.getExpectedTwilioSignature(token, URL_, {});
      const req = request({ headers: { ...json, 'X-Twilio-Signature': signature }, body });
      expect(reasonOf(preset('twilio').verify(req, config))).toMatch(/not covered/);
    });
  });

  it('rejects a bad publicUrl at validation', () => {
    for (const publicUrl of ['ftp://x.example.com', '/relative', 'https://x.example.com/?q=1', 42]) {
      expect(preset('twilio').validate({ ...config, publicUrl })).toMatch(/publicUrl/);
    }
  });
});

describe('standard-webhooks specifics', () => {
  const [secret, other] = SW_SECRETS;
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const body = '{"type":"invoice.paid","data":{"id":"inv_1"}}';
  const headersFor = (signature: string) => ({ 'webhook-id': id, 'webhook-timestamp': String(NOW_S), 'webhook-signature': signature });

  it('accepts when one of several space-separated signatures matches, ignoring v1a', () => {
    const good = new StandardWebhook(secret).sign(id, new Date(NOW_MS), body);
    const bad = new StandardWebhook(other).sign(id, new Date(NOW_MS), body);
    const headers = headersFor(`v1a,${'A'.repeat(86)}== ${bad} ${good}`);
    expect(preset('standard-webhooks').verify(request({ headers, body }), { type: 'standard-webhooks', secret })).toEqual({ ok: true });
    // The library reads the clock itself.
    vi.useFakeTimers({ now: NOW_MS });
    try {
      expect(() => new StandardWebhook(secret).verify(body, headers)).not.toThrow();
    } finally {
      vi.useRealTimers();
    }
  });

  it('binds the signature to webhook-id', () => {
    const headers = { ...headersFor(new StandardWebhook(secret).sign(id, new Date(NOW_MS), body)), 'webhook-id': 'msg_other' };
    expect(reasonOf(preset('standard-webhooks').verify(request({ headers, body }), { type: 'standard-webhooks', secret }))).toBe('signature mismatch');
  });

  it('accepts the secret without the whsec_ prefix and rejects non-base64 secrets at validation', () => {
    const bare = secret.slice('whsec_'.length);
    const headers = headersFor(new StandardWebhook(secret).sign(id, new Date(NOW_MS), body));
    expect(preset('standard-webhooks').verify(request({ headers, body }), { type: 'standard-webhooks', secret: bare })).toEqual({ ok: true });
    expect(preset('standard-webhooks').validate({ type: 'standard-webhooks', secret: 'whsec_not base64!' })).toMatch(/secret/);
  });
});

describe('zoom url_validation handshake', () => {
  const secret = 'zoom-secret-token';
  const plainToken = 'qgg8vlvZRS6UYooatFL8Aw';
  const body = JSON.stringify({ payload: { plainToken }, event_ts: NOW_MS, event: 'endpoint.url_validation' });
  const signedHeaders = (key: string) => ({
    'x-zm-signature': `v0=${hex256(key, `v0:${NOW_S}:${body}`)}`,
    'x-zm-request-timestamp': String(NOW_S),
  });

  it('answers a verified validation request as Zoom documents', () => {
    const outcome = preset('zoom').verify(request({ headers: signedHeaders(secret), body }), { type: 'zoom', secret });
    // Zoom's sample: crypto.createHmac('sha256', ZOOM_WEBHOOK_SECRET_TOKEN).update(plainToken).digest('hex')
    const encryptedToken = createHmac('sha256', secret).update(plainToken).digest('hex');
    expect(outcome).toEqual({
      ok: true,
      handshake: { status: 200, headers: { 'content-type': 'application/json' }, body: { plainToken, encryptedToken } },
    });
  });

  it('answers with the rotated secret that verified', () => {
    const outcome = preset('zoom').verify(request({ headers: signedHeaders('new-token'), body }), { type: 'zoom', secret, secrets: ['new-token'] });
    expect(outcome.ok && outcome.handshake?.body).toEqual({ plainToken, encryptedToken: hex256('new-token', plainToken) });
  });

  it('does not answer an unsigned or wrongly signed validation request', () => {
    reasonOf(preset('zoom').verify(request({ headers: {}, body }), { type: 'zoom', secret }));
    reasonOf(preset('zoom').verify(request({ headers: signedHeaders('guess'), body }), { type: 'zoom', secret }));
  });

  it('rejects a verified validation request without a plainToken', () => {
    const noToken = JSON.stringify({ event: 'endpoint.url_validation', payload: {} });
    const headers = { 'x-zm-signature': `v0=${hex256(secret, `v0:${NOW_S}:${noToken}`)}`, 'x-zm-request-timestamp': String(NOW_S) };
    reasonOf(preset('zoom').verify(request({ headers, body: noToken }), { type: 'zoom', secret }));
  });
});

describe('polar PING handshake', () => {
  const config = { type: 'polar', secret: 'polar-secret' };

  it('answers the unsigned registration PING with 200', () => {
    const body = JSON.stringify({ timestamp: '2018-05-15T14:22:24Z', event: 'PING' });
    expect(preset('polar').verify(request({ headers: { 'Polar-Webhook-Event': 'PING' }, body }), config)).toEqual({
      ok: true,
      handshake: { status: 200, body: {} },
    });
  });

  it('still requires a signature for every other event', () => {
    const body = JSON.stringify({ event: 'EXERCISE' });
    expect(reasonOf(preset('polar').verify(request({ headers: { 'Polar-Webhook-Event': 'EXERCISE' }, body }), config))).toBe(
      'missing Polar-Webhook-Signature header',
    );
    reasonOf(preset('polar').verify(request({ headers: { 'Polar-Webhook-Event': 'ping' }, body }), config));
  });
});

describe('paddle, linear and square specifics', () => {
  it('paddle accepts any of several h1 entries', () => {
    const body = '{"event_id":"evt_1"}';
    const header = `ts=${NOW_S};h1=${'f'.repeat(64)};h1=${hex256('pdl_ntfset_secret', `${NOW_S}:${body}`)}`;
    expect(preset('paddle').verify(request({ headers: { 'Paddle-Signature': header }, body }), { type: 'paddle', secret: 'pdl_ntfset_secret' })).toEqual({ ok: true });
  });

  it('linear accepts a payload without webhookTimestamp and rejects a malformed one', () => {
    const config = { type: 'linear', secret: 'lin_wh_secret' };
    const sign = (body: string) => request({ headers: { 'Linear-Signature': hex256('lin_wh_secret', body) }, body });
    expect(preset('linear').verify(sign('{"action":"update"}'), config)).toEqual({ ok: true });
    expect(reasonOf(preset('linear').verify(sign('{"webhookTimestamp":"soon"}'), config))).toBe('malformed webhookTimestamp');
  });

  it('square signs the configured notificationUrl, else the public request URL', () => {
    const key = 'sq0wbs-signature-key';
    const body = '{"event_id":"e1"}';
    const notificationUrl = 'https://example.com/webhooks/square';
    const header = { 'x-square-hmacsha256-signature': mac('sha256', key, notificationUrl + body, 'base64') };
    const internal = request({ url: 'http://127.0.0.1:8080/in/sq', headers: header, body });
    expect(preset('square').verify(internal, { type: 'square', secret: key, notificationUrl })).toEqual({ ok: true });
    reasonOf(preset('square').verify(internal, { type: 'square', secret: key }));

    const viaProxy = request({
      url: 'http://127.0.0.1:8080/in/sq?x=1',
      headers: { 'x-square-hmacsha256-signature': mac('sha256', key, `https://example.com/hooks/in/sq?x=1${body}`, 'base64') },
      body,
    });
    expect(preset('square').verify(viaProxy, { type: 'square', secret: key, publicUrl: 'https://example.com/hooks' })).toEqual({ ok: true });
    expect(preset('square').validate({ type: 'square', secret: key, notificationUrl: 'not a url' })).toMatch(/notificationUrl/);
  });
});

describe('generic hmac preset', () => {
  const body = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7b]); // not UTF-8: the raw bytes must be what is signed

  it.each([
    ['sha1', 'hex'],
    ['sha256', 'hex'],
    ['sha256', 'base64'],
    ['sha512', 'hex'],
  ] as const)('verifies %s/%s over raw bytes', (algorithm, encoding) => {
    const config = { type: 'hmac', secret: 'k', header: 'X-Sig', algorithm, encoding };
    const headers = { 'X-Sig': mac(algorithm, 'k', body, encoding) };
    expect(preset('hmac').verify(request({ headers, body }), config)).toEqual({ ok: true });
    const utf8Mangled = Buffer.from(body.toString('utf8'), 'utf8');
    reasonOf(preset('hmac').verify(request({ headers, body: utf8Mangled }), config));
  });

  it('accepts upper-case hex', () => {
    const config = { type: 'hmac', secret: 'k', header: 'X-Sig', algorithm: 'sha256', encoding: 'hex' };
    const headers = { 'X-Sig': mac('sha256', 'k', body, 'hex').toUpperCase() };
    expect(preset('hmac').verify(request({ headers, body }), config)).toEqual({ ok: true });
  });

  it('validates header, algorithm, encoding and prefix', () => {
    const ok = { type: 'hmac', secret: 'k', header: 'X-Sig', algorithm: 'sha256', encoding: 'hex' };
    expect(preset('hmac').validate(ok)).toBeUndefined();
    expect(preset('hmac').validate({ ...ok, header: 'bad header' })).toMatch(/^header/);
    expect(preset('hmac').validate({ ...ok, algorithm: 'md5' })).toMatch(/^algorithm/);
    expect(preset('hmac').validate({ ...ok, encoding: 'base32' })).toMatch(/^encoding/);
    expect(preset('hmac').validate({ ...ok, prefix: 7 })).toMatch(/^prefix/);
    expect(reasonOf(preset('hmac').verify(request({ headers: { 'X-Sig': 'x' }, body }), { ...ok, algorithm: 'md5' }))).not.toContain('k');
  });
});

describe('basic and bearer', () => {
  const basic = { type: 'basic', username: 'hook', password: 'pa:ss wörd' };
  const bearer = { type: 'bearer', token: 'tok_4f9d2a' };
  const auth = (value: string) => request({ headers: { Authorization: value }, body: '{}' });
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

  it('basic accepts the configured credentials, any scheme case', () => {
    expect(preset('basic').verify(auth(`Basic ${b64('hook:pa:ss wörd')}`), basic)).toEqual({ ok: true });
    expect(preset('basic').verify(auth(`basic ${b64('hook:pa:ss wörd')}`), basic)).toEqual({ ok: true });
  });

  it('basic rejects wrong, missing and non-basic credentials without echoing them', () => {
    const reason = reasonOf(preset('basic').verify(auth(`Basic ${b64('hook:nope')}`), basic));
    expect(reason).not.toContain('pa:ss');
    reasonOf(preset('basic').verify(auth(`Basic ${b64('other:pa:ss wörd')}`), basic));
    expect(reasonOf(preset('basic').verify(request({ headers: {}, body: '' }), basic))).toBe('missing Authorization header');
    reasonOf(preset('basic').verify(auth(`Bearer ${b64('hook:pa:ss wörd')}`), basic));
  });

  it('bearer accepts the token and rejects others', () => {
    expect(preset('bearer').verify(auth('Bearer tok_4f9d2a'), bearer)).toEqual({ ok: true });
    expect(preset('bearer').verify(auth('bearer tok_4f9d2a'), bearer)).toEqual({ ok: true });
    expect(reasonOf(preset('bearer').verify(auth('Bearer tok_4f9d2b'), bearer))).not.toContain('tok_4f9d2a');
    reasonOf(preset('bearer').verify(auth('Bearer tok_4f9d2a extra'), bearer));
    reasonOf(preset('bearer').verify(auth('Basic tok_4f9d2a'), bearer));
    expect(reasonOf(preset('bearer').verify(request({ headers: {}, body: '' }), bearer))).toBe('missing Authorization header');
  });

  it('validate names the bad field', () => {
    expect(preset('basic').validate(basic)).toBeUndefined();
    expect(preset('basic').validate({ ...basic, username: 'a:b' })).toMatch(/^username/);
    expect(preset('basic').validate({ ...basic, password: '' })).toMatch(/^password/);
    expect(preset('bearer').validate(bearer)).toBeUndefined();
    expect(preset('bearer').validate({ type: 'bearer' })).toMatch(/^token/);
  });
});

describe('registry and shared validation', () => {
  it('lists every type and resolves only real ones', () => {
    expect(VERIFICATION_TYPES).toEqual([
      'github', 'stripe', 'shopify', 'slack', 'twilio', 'standard-webhooks', 'polar', 'zoom',
      'paddle', 'square', 'linear', 'intercom', 'hmac', 'basic', 'bearer', 'none',
    ]);
    for (const type of VERIFICATION_TYPES) expect(presetFor(type)?.type).toBe(type);
    for (const type of ['__proto__', 'constructor', 'toString', 'GitHub', '']) expect(presetFor(type)).toBeUndefined();
  });

  it('none accepts anything', () => {
    expect(preset('none').validate({ type: 'none' })).toBeUndefined();
    expect(preset('none').verify(request({ headers: {}, body: 'whatever' }), { type: 'none' })).toEqual({ ok: true });
  });

  it.each(['github', 'stripe', 'slack', 'zoom', 'paddle', 'linear'])('%s rejects bad secrets and tolerance', (type) => {
    const v = (config: Record<string, unknown>) => preset(type).validate({ type, ...config });
    expect(v({})).toMatch(/secret/);
    expect(v({ secret: '' })).toMatch(/secret/);
    expect(v({ secret: 42 })).toMatch(/secret/);
    expect(v({ secrets: [] })).toMatch(/secret/);
    expect(v({ secret: 's', secrets: ['ok', ''] })).toMatch(/secrets/);
    expect(v({ secret: 's', secrets: 'ok' })).toMatch(/secrets/);
    expect(v({ secret: 's', toleranceSeconds: 0 })).toMatch(/toleranceSeconds/);
    expect(v({ secret: 's', toleranceSeconds: 1.5 })).toMatch(/toleranceSeconds/);
    expect(v({ secret: 's', toleranceSeconds: '300' })).toMatch(/toleranceSeconds/);
    expect(v({ secret: 's', toleranceSeconds: 60 })).toBeUndefined();
  });

  it('a signed scheme with no usable secret fails closed', () => {
    for (const type of VERIFICATION_TYPES.filter((t) => t !== 'none')) {
      const outcome = preset(type).verify(request({ headers: { 'x-hub-signature-256': 'sha256=00' }, body: '{}' }), { type });
      expect(outcome.ok, type).toBe(false);
    }
  });
});

describe('malformed input never throws', () => {
  // Small deterministic PRNG so a failure reproduces.
  let seed = 0x9e3779b9;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const junk = () =>
    pick([
      '',
      ' ',
      'v0=',
      'sha256=',
      't=,v1=',
      'ts=;h1=',
      'v1,',
      'Basic ',
      'Bearer',
      '=,=;=',
      'x'.repeat(100_000),
      `t=${'9'.repeat(40)},v1=${'a'.repeat(64)}`,
      `ts=-1;h1=zz`,
      '1e3',
      'NaN',
      '\u0000\uffff\ud800',
      randomBytes(Math.floor(rand() * 64)).toString('latin1'),
      randomBytes(Math.floor(rand() * 64)).toString('base64'),
      Array.from({ length: 500 }, () => 'v1=00').join(','),
    ]);
  const names = [
    'x-hub-signature-256', 'x-hub-signature', 'x-github-delivery', 'stripe-signature', 'x-shopify-hmac-sha256',
    'x-shopify-webhook-id', 'x-slack-signature', 'x-slack-request-timestamp', 'x-twilio-signature', 'content-type',
    'webhook-id', 'webhook-timestamp', 'webhook-signature', 'polar-webhook-signature', 'polar-webhook-event',
    'x-zm-signature', 'x-zm-request-timestamp', 'paddle-signature', 'x-square-hmacsha256-signature',
    'linear-signature', 'linear-delivery', 'authorization', 'x-sig', 'constructor', '__proto__',
  ];
  const bodies = () =>
    pick([
      Buffer.alloc(0),
      randomBytes(Math.floor(rand() * 512)),
      Buffer.from('{"event":"endpoint.url_validation","payload":{"plainToken":{"x":1}}}'),
      Buffer.from('{"webhookTimestamp":1e309,"id":[1],"event_id":null}'),
      Buffer.from('[1,2,3]'),
      Buffer.from('null'),
      Buffer.from('a=%zz&b=%&&=&c'),
      Buffer.from('{'.repeat(10_000)),
    ]);
  const configs = (type: string): VerificationConfig[] => [
    { type },
    { type, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', secrets: ['s2'] },
    { type, secret: 'k', header: 'X-Sig', algorithm: 'sha256', encoding: 'hex', username: 'u', password: 'p', token: 't' },
    { type, secret: 'k', toleranceSeconds: -1, publicUrl: 'not a url', notificationUrl: 12, header: '__proto__', algorithm: 'md5' },
    { type, secret: 42, secrets: 'nope' } as unknown as VerificationConfig,
    { type, secrets: [null, 7, ''] } as unknown as VerificationConfig,
  ];
  const urls = ['', '/', 'not a url', 'https://', 'https://[::1', 'http://h:99999/p?bodySHA256=zz&bodySHA256=', 'https://h/%E0%A4%A?x=%'];

  it('returns an outcome with a short reason for 3000 random requests', () => {
    for (let i = 0; i < 3000; i++) {
      const type = pick(VERIFICATION_TYPES);
      const headers: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
      for (const name of names) if (rand() < 0.4) headers[name] = rand() < 0.1 ? undefined : junk();
      const req: InboundRequest = { method: pick(['POST', 'GET', '']), url: pick(urls), headers, rawBody: bodies(), nowMs: pick([NOW_MS, 0, NaN, -1, Number.MAX_VALUE]) };
      for (const config of configs(type)) {
        const p = preset(type);
        const outcome = p.verify(req, config);
        expect(typeof outcome.ok).toBe('boolean');
        if (!outcome.ok) expect(outcome.reason.length).toBeLessThan(120);
        p.validate(config);
        const id = p.deliveryId?.(req);
        expect(id === undefined || typeof id === 'string').toBe(true);
      }
    }
  });

  it('handles headers whose values are not strings at runtime', () => {
    const headers = { 'x-hub-signature-256': 42, 'stripe-signature': ['t=1'], authorization: {} } as unknown as Record<string, string>;
    for (const type of VERIFICATION_TYPES) {
      expect(() => preset(type).verify({ method: 'POST', url: URL_, headers, rawBody: Buffer.from('{}'), nowMs: NOW_MS }, { type, secret: 's' })).not.toThrow();
    }
  });
});
