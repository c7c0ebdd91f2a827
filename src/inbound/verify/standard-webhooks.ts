import type { VerificationConfig, VerificationPreset } from './preset.js';
import { fail, headerDeliveryId, headerOf, outcome, secretsOf, validateSigned } from './compare.js';
import { verifyStamped } from './hmac.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The HMAC key is the base64 after the optional `whsec_` prefix (as the standardwebhooks library reads it). */
function keyOf(secret: string): Buffer | undefined {
  const encoded = secret.startsWith('whsec_') ? secret.slice(6) : secret;
  return encoded.length > 0 && BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
}

function validate(config: VerificationConfig): string | undefined {
  const problem = validateSigned(config);
  if (problem !== undefined) return problem;
  return secretsOf(config).every((s) => keyOf(s) !== undefined) ? undefined : 'secret must be whsec_ followed by base64';
}

export const standardWebhooksPreset: VerificationPreset = {
  type: 'standard-webhooks',
  validate,
  verify(request, config) {
    const id = headerOf(request, 'webhook-id');
    const timestamp = headerOf(request, 'webhook-timestamp');
    const signature = headerOf(request, 'webhook-signature');
    if (id === undefined) return fail('missing webhook-id header');
    if (timestamp === undefined) return fail('missing webhook-timestamp header');
    if (signature === undefined) return fail('missing webhook-signature header');
    // Space-separated `v1,<base64>` entries; other versions (v1a asymmetric) are not ours to check.
    const candidates = signature
      .split(' ')
      .filter((entry) => entry.startsWith('v1,'))
      .map((entry) => entry.slice(3));
    if (candidates.length === 0) return fail('malformed webhook-signature header');
    const keys = secretsOf(config)
      .map(keyOf)
      .filter((k): k is Buffer => k !== undefined);
    return outcome(
      verifyStamped(request, config, {
        keys,
        timestamp,
        timestampLabel: 'webhook-timestamp header',
        candidates,
        prefix: `${id}.${timestamp}.`,
        scheme: { algorithm: 'sha256', encoding: 'base64' },
      }),
    );
  },
  deliveryId: (request) => headerDeliveryId(request, 'webhook-id'),
};
