import type { VerificationPreset } from './preset.js';
import { fail, headerDeliveryId, jsonField, validateSigned, withinTolerance } from './compare.js';
import { verifyBodyHmac } from './hmac.js';

export const linearPreset: VerificationPreset = {
  type: 'linear',
  validate: validateSigned,
  verify(request, config) {
    const check = verifyBodyHmac(request, config, { header: 'Linear-Signature', algorithm: 'sha256', encoding: 'hex' });
    if (!check.ok) return check;
    // The timestamp is inside the signed body (ms); checked only when the payload carries one.
    const timestamp = jsonField(request.rawBody, ['webhookTimestamp']);
    if (timestamp === undefined) return { ok: true };
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) return fail('malformed webhookTimestamp');
    return withinTolerance(timestamp, request, config) ? { ok: true } : fail('timestamp outside tolerance');
  },
  deliveryId: (request) => headerDeliveryId(request, 'Linear-Delivery'),
};
