import { createHmac } from 'node:crypto';

/** The Standard Webhooks signature of one secret: `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`. */
export function signStandard(secret: string, id: string, timestampSeconds: number, body: string): string {
  // Two updates, not one of the joined text: joining copies the whole body once more per attempt.
  const mac = createHmac('sha256', keyOf(secret)).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

// Decoded signing keys by secret text: a worker signs with the same few secrets over and over.
const keys = new Map<string, Buffer>();
const KEY_CACHE_SIZE = 10_000;

function keyOf(secret: string): Buffer {
  let key = keys.get(secret);
  if (key === undefined) {
    key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
    if (keys.size >= KEY_CACHE_SIZE) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

/** One space-separated entry per active secret, so receivers verify during a rotation's overlap. */
export function standardWebhookHeaders(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((secret) => signStandard(secret, id, timestampSeconds, body)).join(' '),
  };
}

/** Polar AccessLink style: hex HMAC-SHA256 of the body keyed with the secret's text, for endpoints registered via /v3/webhooks. */
export function signPolar(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}
