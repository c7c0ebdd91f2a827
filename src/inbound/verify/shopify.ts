import { bodyHmacPreset } from './hmac.js';

export const shopifyPreset = bodyHmacPreset(
  'shopify',
  { header: 'X-Shopify-Hmac-Sha256', algorithm: 'sha256', encoding: 'base64' },
  'X-Shopify-Webhook-Id',
);
