import type { VerificationConfig, VerificationPreset } from './preset.js';
import { constantTimeEqual, fail, headerOf } from './compare.js';

function validate(config: VerificationConfig): string | undefined {
  // RFC 7617: the user-id cannot contain a colon.
  if (typeof config.username !== 'string' || config.username.length === 0 || config.username.includes(':')) {
    return 'username must be a non-empty string without ":"';
  }
  if (typeof config.password !== 'string' || config.password.length === 0) return 'password must be a non-empty string';
  return undefined;
}

export const basicPreset: VerificationPreset = {
  type: 'basic',
  validate,
  verify(request, config) {
    if (validate(config) !== undefined) return fail('invalid basic verification config');
    const authorization = headerOf(request, 'Authorization');
    if (authorization === undefined) return fail('missing Authorization header');
    const match = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(authorization);
    if (match === null) return fail('Authorization header is not Basic credentials');
    const given = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
    return constantTimeEqual(given, `${config.username as string}:${config.password as string}`)
      ? { ok: true }
      : fail('credentials mismatch');
  },
};
