import type { VerificationPreset } from './preset.js';
import { fail, headerOf, jsonDeliveryId, outcome, secretsOf, validateSigned } from './compare.js';
import { verifyHmac } from './hmac.js';
import { publicRequestUrl, validateUrlOption } from './twilio.js';

export const squarePreset: VerificationPreset = {
  type: 'square',
  validate: (config) =>
    validateSigned(config) ??
    validateUrlOption(config, 'notificationUrl', true) ??
    validateUrlOption(config, 'publicUrl', false),
  verify(request, config) {
    const signature = headerOf(request, 'x-square-hmacsha256-signature');
    if (signature === undefined) return fail('missing x-square-hmacsha256-signature header');
    // Square signs the subscription's notification URL as configured, so an explicit one wins over the request's.
    const url = typeof config.notificationUrl === 'string' ? config.notificationUrl : publicRequestUrl(request, config);
    return outcome(
      verifyHmac(secretsOf(config), [signature], { algorithm: 'sha256', encoding: 'base64' }, url, request.rawBody),
    );
  },
  deliveryId: (request) => jsonDeliveryId(request, 'event_id'),
};
