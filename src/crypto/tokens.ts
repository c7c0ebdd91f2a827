import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** API tokens carry 256 bits of randomness, so a plain SHA-256 is a safe at-rest hash (no password stretching needed). */
export function newApiToken(kind: 'admin' | 'app' | 'portal'): string {
  return `hy_${kind}_${randomBytes(32).toString('base64url')}`;
}

// crypto.hash, not createHash: one call, no Hash object and stream to set up (a third of the time for a token; every
// API request hashes its token, and constantTimeEqual hashes both sides).
export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
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
  const left = hash('sha256', a, 'buffer');
  const right = hash('sha256', b, 'buffer');
  return timingSafeEqual(left, right) && a.length === b.length;
}
