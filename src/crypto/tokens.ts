import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** API tokens carry 256 bits of randomness, so a plain SHA-256 is a safe at-rest hash (no password stretching needed). */
export function newApiToken(kind: 'admin' | 'app'): string {
  return `hy_${kind}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Standard Webhooks secrets: `whsec_` + base64 of 24 random bytes (the size Svix generates). */
export function newEndpointSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export function isValidEndpointSecret(secret: string): boolean {
  if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) return false;
  const bytes = Buffer.from(secret.slice(6), 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}
