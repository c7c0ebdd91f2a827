import type { VerificationPreset } from './preset.js';
import { headerOf, outcome, validateSigned } from './compare.js';
import { verifyBodyHmac } from './hmac.js';

export const polarPreset: VerificationPreset = {
  type: 'polar',
  validate: validateSigned,
  verify(request, config) {
    // AccessLink sends the registration PING unsigned; it is answered, never ingested as an event.
    if (headerOf(request, 'Polar-Webhook-Event') === 'PING') {
      return { ok: true, handshake: { status: 200, body: {} } };
    }
    return outcome(
      verifyBodyHmac(request, config, { header: 'Polar-Webhook-Signature', algorithm: 'sha256', encoding: 'hex' }),
    );
  },
};
