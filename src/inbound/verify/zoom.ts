import type { VerificationPreset } from './preset.js';
import { fail, hmacDigest, jsonField, validateSigned } from './compare.js';
import { verifyV0 } from './hmac.js';

export const zoomPreset: VerificationPreset = {
  type: 'zoom',
  validate: validateSigned,
  verify(request, config) {
    const check = verifyV0(request, config, { signatureHeader: 'x-zm-signature', timestampHeader: 'x-zm-request-timestamp' });
    if (!check.ok) return check;
    if (jsonField(request.rawBody, ['event']) !== 'endpoint.url_validation') return { ok: true };
    const plainToken = jsonField(request.rawBody, ['payload', 'plainToken']);
    if (typeof plainToken !== 'string' || plainToken.length === 0) return fail('url_validation without plainToken');
    // Answer with the secret that verified, which is the one Zoom holds.
    const encryptedToken = hmacDigest('sha256', check.key, [plainToken], 'hex');
    return {
      ok: true,
      handshake: { status: 200, headers: { 'content-type': 'application/json' }, body: { plainToken, encryptedToken } },
    };
  },
};
