import { jsonDeliveryId } from './compare.js';
import { signaturePreset, verifyKeyedHeader } from './hmac.js';

export const stripePreset = signaturePreset(
  'stripe',
  (request, config) =>
    verifyKeyedHeader(request, config, {
      header: 'Stripe-Signature',
      pairSeparator: ',',
      timestampKey: 't',
      signatureKey: 'v1',
      joiner: '.',
    }),
  // Stripe retries an event under the same evt_… id, which is only in the body.
  (request) => jsonDeliveryId(request, 'id'),
);
