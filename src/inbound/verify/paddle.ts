import { signaturePreset, verifyKeyedHeader } from './hmac.js';

export const paddlePreset = signaturePreset('paddle', (request, config) =>
  verifyKeyedHeader(request, config, {
    header: 'Paddle-Signature',
    pairSeparator: ';',
    timestampKey: 'ts',
    signatureKey: 'h1',
    joiner: ':',
  }),
);
