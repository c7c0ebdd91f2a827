import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../../crypto/tokens.js';
import type { InboundRequest, VerificationConfig, VerifyOutcome } from './preset.js';

// Hashes both sides before timingSafeEqual, so neither content nor length of the expected value leaks.
export { constantTimeEqual };

export const DEFAULT_TOLERANCE_SECONDS = 300;
const MAX_TOLERANCE_SECONDS = 7 * 86_400;
/** Senders put one signature per active secret in a header; more than this is noise or abuse. */
export const MAX_SIGNATURES = 16;
const MAX_ID_LENGTH = 255;

export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';
export type DigestEncoding = 'hex' | 'base64';

/** A signature check's result; `key` is the secret that verified (handshakes answer with it). */
export type Check<K = string> = { ok: true; key: K } | { ok: false; reason: string };

export function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

export function outcome(check: Check<unknown>): VerifyOutcome {
  return check.ok ? { ok: true } : check;
}

/** All active secrets (`secret` plus `secrets`), deduplicated; ignores anything that isn't a non-empty string. */
export function secretsOf(config: VerificationConfig): string[] {
  const listed: unknown[] = Array.isArray(config.secrets) ? config.secrets : [];
  const all = [config.secret, ...listed].filter((s): s is string => typeof s === 'string' && s.length > 0);
  return [...new Set(all)];
}

export function validateSecrets(config: VerificationConfig): string | undefined {
  if (config.secret !== undefined && (typeof config.secret !== 'string' || config.secret.length === 0)) {
    return 'secret must be a non-empty string';
  }
  const listed: unknown = config.secrets;
  if (listed !== undefined && (!Array.isArray(listed) || !listed.every((s) => typeof s === 'string' && s.length > 0))) {
    return 'secrets must be an array of non-empty strings';
  }
  if (secretsOf(config).length === 0) return 'secret is required';
  return undefined;
}

export function validateTolerance(config: VerificationConfig): string | undefined {
  const t: unknown = config.toleranceSeconds;
  if (t === undefined) return undefined;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > MAX_TOLERANCE_SECONDS) {
    return `toleranceSeconds must be an integer from 1 to ${MAX_TOLERANCE_SECONDS}`;
  }
  return undefined;
}

/** The validation every secret-based scheme shares. */
export function validateSigned(config: VerificationConfig): string | undefined {
  return validateSecrets(config) ?? validateTolerance(config);
}

export function toleranceOf(config: VerificationConfig): number {
  return validateTolerance(config) === undefined && config.toleranceSeconds !== undefined
    ? config.toleranceSeconds
    : DEFAULT_TOLERANCE_SECONDS;
}

/** Whole Unix seconds only: rejects signs, exponents, fractions and absurd lengths. */
export function parseUnixSeconds(raw: string): number | undefined {
  return /^\d{1,12}$/.test(raw) ? Number(raw) : undefined;
}

/** Symmetric window: a timestamp too far in the future is as suspect as a stale one. */
export function withinTolerance(timestampMs: number, request: InboundRequest, config: VerificationConfig): boolean {
  return Math.abs(request.nowMs - timestampMs) <= toleranceOf(config) * 1000;
}

/** A header's trimmed value, or undefined when absent or blank. Own properties only: `constructor` is not a header. */
export function headerOf(request: InboundRequest, name: string): string | undefined {
  const key = name.toLowerCase();
  if (!Object.hasOwn(request.headers, key)) return undefined;
  const value: unknown = request.headers[key];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 ? trimmed : undefined;
}

/** Provider ids are short; an oversized value is not a usable dedup key. */
function asDeliveryId(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH ? value : undefined;
}

export function headerDeliveryId(request: InboundRequest, name: string): string | undefined {
  return asDeliveryId(headerOf(request, name));
}

export function jsonDeliveryId(request: InboundRequest, field: string): string | undefined {
  return asDeliveryId(jsonField(request.rawBody, [field]));
}

/** Reads a nested field of a JSON object body; undefined for non-JSON bodies, non-objects or missing fields. */
export function jsonField(body: Buffer, path: readonly string[]): unknown {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export function hmacDigest(
  algorithm: HmacAlgorithm,
  key: string | Buffer,
  parts: readonly (string | Buffer)[],
  encoding: DigestEncoding,
): string {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest(encoding);
}

/**
 * The first key whose expected value equals any candidate. Every pair is compared (no early exit),
 * so timing does not tell which secret or which candidate matched.
 */
export function matchKey<K>(keys: readonly K[], candidates: readonly string[], expected: (key: K) => string): K | undefined {
  let found: K | undefined;
  for (const key of keys) {
    const want = expected(key);
    let hit = false;
    for (const candidate of candidates.slice(0, MAX_SIGNATURES)) hit = constantTimeEqual(candidate, want) || hit;
    if (hit && found === undefined) found = key;
  }
  return found;
}
