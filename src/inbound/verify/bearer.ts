import type { VerificationConfig, VerificationPreset } from './preset.js';
import { constantTimeEqual, fail, headerOf } from './compare.js';

function validate(config: VerificationConfig): string | undefined {
  return typeof config.token === 'string' && config.token.length > 0 ? undefined : 'token must be a non-empty string';
}

export const bearerPreset: VerificationPreset = {
  type: 'bearer',
  validate,
  verify(request, config) {
    if (validate(config) !== undefined) return fail('invalid bearer verification config');
    const authorization = headerOf(request, 'Authorization');
    if (authorization === undefined) return fail('missing Authorization header');
    const match = /^Bearer +(\S+)$/i.exec(authorization);
    if (match === null) return fail('Authorization header is not a Bearer token');
    return constantTimeEqual(match[1] ?? '', config.token as string) ? { ok: true } : fail('token mismatch');
  },
};
