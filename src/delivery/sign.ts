import { createHmac } from 'node:crypto';

/** The Standard Webhooks signature of one secret: `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`. */
export function signStandard(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
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
