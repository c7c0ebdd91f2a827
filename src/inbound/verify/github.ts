import { bodyHmacPreset } from './hmac.js';

export const githubPreset = bodyHmacPreset(
  'github',
  { header: 'X-Hub-Signature-256', prefix: 'sha256=', algorithm: 'sha256', encoding: 'hex' },
  'X-GitHub-Delivery',
);
