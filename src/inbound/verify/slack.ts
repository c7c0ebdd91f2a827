import { signaturePreset, verifyV0 } from './hmac.js';

export const slackPreset = signaturePreset('slack', (request, config) =>
  verifyV0(request, config, { signatureHeader: 'X-Slack-Signature', timestampHeader: 'X-Slack-Request-Timestamp' }),
);
