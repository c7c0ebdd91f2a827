// Verification presets and the fields each needs (mirrors src/inbound/verify/*.ts `validate`).

const secrets = (label = 'Secret', hint) => ({
  name: 'secrets',
  kind: 'secrets',
  label,
  required: true,
  hint: hint ?? 'One per line. Every listed secret is accepted, which is how you rotate: add the new one, then remove the old.',
});
const tolerance = { name: 'toleranceSeconds', kind: 'number', label: 'Timestamp tolerance (seconds)', hint: 'Requests signed further than this from now, either way, are refused. Default 300.', min: 1 };

export const PRESETS = [
  { type: 'none', label: 'None (accept everything: inspection bin)', checks: 'Nothing is checked.', fields: [] },
  { type: 'github', label: 'GitHub', checks: 'X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>', fields: [secrets('Webhook secret')] },
  { type: 'stripe', label: 'Stripe', checks: 'Stripe-Signature: t=…,v1=… over "t.body"', fields: [secrets('Signing secret (whsec_…)'), tolerance] },
  { type: 'shopify', label: 'Shopify', checks: 'X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256)', fields: [secrets('Client secret')] },
  { type: 'slack', label: 'Slack', checks: 'X-Slack-Signature: v0=… over "v0:ts:body"', fields: [secrets('Signing secret'), tolerance] },
  {
    type: 'twilio',
    label: 'Twilio',
    checks: 'X-Twilio-Signature: HMAC-SHA1 of the full URL and form fields',
    fields: [
      secrets('Auth token'),
      { name: 'publicUrl', kind: 'url', label: 'Public URL (behind a proxy)', hint: 'Scheme, host and base path Twilio calls, when it differs from what Hookyard sees. No query.' },
    ],
  },
  { type: 'standard-webhooks', label: 'Standard Webhooks (Svix, Hookyard…)', checks: 'webhook-id, webhook-timestamp, webhook-signature', fields: [secrets('Secret (whsec_…)', 'whsec_ followed by base64. One per line: every listed secret is accepted.'), tolerance] },
  { type: 'polar', label: 'Polar', checks: 'Polar-Webhook-Signature (hex HMAC-SHA256); PING is answered', fields: [secrets('Signature secret key')] },
  { type: 'zoom', label: 'Zoom', checks: 'x-zm-signature: v0=…; answers endpoint.url_validation', fields: [secrets('Secret token'), tolerance] },
  { type: 'paddle', label: 'Paddle', checks: 'Paddle-Signature: ts=…;h1=…', fields: [secrets('Secret key'), tolerance] },
  {
    type: 'square',
    label: 'Square',
    checks: 'x-square-hmacsha256-signature over notification URL + body',
    fields: [
      secrets('Signature key'),
      { name: 'notificationUrl', kind: 'url', label: 'Notification URL', hint: 'The URL exactly as configured in Square (it is part of what is signed).' },
      { name: 'publicUrl', kind: 'url', label: 'Public URL (behind a proxy)', hint: 'Used when no notification URL is set.' },
    ],
  },
  { type: 'linear', label: 'Linear', checks: 'Linear-Signature (hex HMAC-SHA256), webhookTimestamp', fields: [secrets('Signing secret'), tolerance] },
  { type: 'intercom', label: 'Intercom', checks: 'X-Hub-Signature: sha1=…', fields: [secrets('Client secret')] },
  {
    type: 'hmac',
    label: 'Generic HMAC',
    checks: 'Your header holds an HMAC of the raw body',
    fields: [
      { name: 'header', kind: 'text', label: 'Signature header', required: true, placeholder: 'X-Signature' },
      { name: 'algorithm', kind: 'select', label: 'Algorithm', required: true, options: ['sha256', 'sha1', 'sha512'] },
      { name: 'encoding', kind: 'select', label: 'Encoding', required: true, options: ['hex', 'base64'] },
      { name: 'prefix', kind: 'text', label: 'Prefix in the header', placeholder: 'sha256=', hint: 'Text before the digest in the header value, if any.' },
      secrets('Secret'),
    ],
  },
  {
    type: 'basic',
    label: 'HTTP Basic auth',
    checks: 'Authorization: Basic … (constant time)',
    fields: [
      { name: 'username', kind: 'text', label: 'Username', required: true, hint: 'No ":" allowed.' },
      { name: 'password', kind: 'secret', label: 'Password', required: true },
    ],
  },
  { type: 'bearer', label: 'Bearer token', checks: 'Authorization: Bearer … (constant time)', fields: [{ name: 'token', kind: 'secret', label: 'Token', required: true }] },
];

export const presetOf = (type) => PRESETS.find((preset) => preset.type === type);

/** Fields that hold credentials: the API never returns them (they come back as ********). */
export const isSecretField = (fieldDef) => fieldDef.kind === 'secrets' || fieldDef.kind === 'secret';
