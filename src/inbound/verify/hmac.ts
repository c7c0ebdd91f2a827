import type { InboundRequest, VerificationConfig, VerificationPreset } from './preset.js';
import {
  type Check,
  type DigestEncoding,
  type HmacAlgorithm,
  fail,
  headerDeliveryId,
  headerOf,
  hmacDigest,
  matchKey,
  outcome,
  parseUnixSeconds,
  secretsOf,
  validateSigned,
  withinTolerance,
} from './compare.js';

// The shared shapes the provider presets are built from, plus the generic `hmac` preset.

export interface HmacScheme {
  algorithm: HmacAlgorithm;
  encoding: DigestEncoding;
}

const SHA256_HEX: HmacScheme = { algorithm: 'sha256', encoding: 'hex' };

/** HMAC of `prefix + rawBody` under each key, compared with each candidate signature. */
export function verifyHmac<K extends string | Buffer>(
  keys: readonly K[],
  candidates: readonly string[],
  scheme: HmacScheme,
  prefix: string,
  body: Buffer,
): Check<K> {
  if (keys.length === 0) return fail('no secret configured');
  // Hex is case-insensitive; base64 is not.
  const provided = scheme.encoding === 'hex' ? candidates.map((c) => c.toLowerCase()) : candidates;
  const key = matchKey(keys, provided, (k) => hmacDigest(scheme.algorithm, k, [prefix, body], scheme.encoding));
  return key === undefined ? fail('signature mismatch') : { ok: true, key };
}

export interface StampedInput<K> {
  keys: readonly K[];
  /** Raw timestamp text (Unix seconds) exactly as signed. */
  timestamp: string;
  timestampLabel: string;
  candidates: readonly string[];
  /** What precedes the raw body in the signed message, given the raw timestamp. */
  prefix: string;
  scheme: HmacScheme;
}

/** Signature first, then the window, so "timestamp outside tolerance" means an authentic but stale/early request. */
export function verifyStamped<K extends string | Buffer>(
  request: InboundRequest,
  config: VerificationConfig,
  input: StampedInput<K>,
): Check<K> {
  const seconds = parseUnixSeconds(input.timestamp);
  if (seconds === undefined) return fail(`malformed ${input.timestampLabel}`);
  const check = verifyHmac(input.keys, input.candidates, input.scheme, input.prefix, request.rawBody);
  if (check.ok && !withinTolerance(seconds * 1000, request, config)) return fail('timestamp outside tolerance');
  return check;
}

/** `<header>: <prefix><digest of the raw body>` (GitHub, Shopify, Linear, Intercom, Polar). */
export interface BodyHmacScheme extends HmacScheme {
  header: string;
  prefix?: string;
}

export function verifyBodyHmac(request: InboundRequest, config: VerificationConfig, scheme: BodyHmacScheme): Check {
  const value = headerOf(request, scheme.header);
  if (value === undefined) return fail(`missing ${scheme.header} header`);
  const prefix = scheme.prefix ?? '';
  if (!value.startsWith(prefix)) return fail(`malformed ${scheme.header} header`);
  return verifyHmac(secretsOf(config), [value.slice(prefix.length)], scheme, '', request.rawBody);
}

/** A preset whose verification is one signature check and whose config is just secrets and tolerance. */
export function signaturePreset(
  type: string,
  check: (request: InboundRequest, config: VerificationConfig) => Check,
  deliveryId?: (request: InboundRequest) => string | undefined,
): VerificationPreset {
  return {
    type,
    validate: validateSigned,
    verify: (request, config) => outcome(check(request, config)),
    ...(deliveryId === undefined ? {} : { deliveryId }),
  };
}

export function bodyHmacPreset(type: string, scheme: BodyHmacScheme, deliveryIdHeader?: string): VerificationPreset {
  return signaturePreset(
    type,
    (request, config) => verifyBodyHmac(request, config, scheme),
    deliveryIdHeader === undefined ? undefined : (request) => headerDeliveryId(request, deliveryIdHeader),
  );
}

/** `<sig header>: v0=<hex HMAC("v0:" + ts + ":" + body)>` with the timestamp in its own header (Slack, Zoom). */
export interface V0Scheme {
  signatureHeader: string;
  timestampHeader: string;
}

export function verifyV0(request: InboundRequest, config: VerificationConfig, scheme: V0Scheme): Check {
  const signature = headerOf(request, scheme.signatureHeader);
  if (signature === undefined) return fail(`missing ${scheme.signatureHeader} header`);
  if (!signature.startsWith('v0=')) return fail(`malformed ${scheme.signatureHeader} header`);
  const timestamp = headerOf(request, scheme.timestampHeader);
  if (timestamp === undefined) return fail(`missing ${scheme.timestampHeader} header`);
  return verifyStamped(request, config, {
    keys: secretsOf(config),
    timestamp,
    timestampLabel: `${scheme.timestampHeader} header`,
    candidates: [signature.slice(3)],
    prefix: `v0:${timestamp}:`,
    scheme: SHA256_HEX,
  });
}

/** One header of `key=value` pairs: a timestamp and one or more hex signatures over `ts + joiner + body` (Stripe, Paddle). */
export interface KeyedHeaderScheme {
  header: string;
  pairSeparator: string;
  timestampKey: string;
  signatureKey: string;
  joiner: string;
}

export function verifyKeyedHeader(request: InboundRequest, config: VerificationConfig, scheme: KeyedHeaderScheme): Check {
  const value = headerOf(request, scheme.header);
  if (value === undefined) return fail(`missing ${scheme.header} header`);
  let timestamp: string | undefined;
  const candidates: string[] = [];
  for (const pair of value.split(scheme.pairSeparator)) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const key = pair.slice(0, eq).trim();
    const field = pair.slice(eq + 1).trim();
    if (key === scheme.timestampKey) timestamp ??= field;
    else if (key === scheme.signatureKey) candidates.push(field);
  }
  if (timestamp === undefined || candidates.length === 0) return fail(`malformed ${scheme.header} header`);
  return verifyStamped(request, config, {
    keys: secretsOf(config),
    timestamp,
    timestampLabel: `${scheme.header} header`,
    candidates,
    prefix: `${timestamp}${scheme.joiner}`,
    scheme: SHA256_HEX,
  });
}

// ---- the generic `hmac` preset: {header, algorithm, encoding, prefix?} over the raw body ----

const ALGORITHMS: readonly string[] = ['sha1', 'sha256', 'sha512'];
const ENCODINGS: readonly string[] = ['hex', 'base64'];
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;

function validateGeneric(config: VerificationConfig): string | undefined {
  if (typeof config.header !== 'string' || !HEADER_NAME.test(config.header)) return 'header must be an HTTP header name';
  if (typeof config.algorithm !== 'string' || !ALGORITHMS.includes(config.algorithm)) {
    return 'algorithm must be one of sha1, sha256, sha512';
  }
  if (typeof config.encoding !== 'string' || !ENCODINGS.includes(config.encoding)) return 'encoding must be hex or base64';
  if (config.prefix !== undefined && typeof config.prefix !== 'string') return 'prefix must be a string';
  return validateSigned(config);
}

export const hmacPreset: VerificationPreset = {
  type: 'hmac',
  validate: validateGeneric,
  verify(request, config) {
    // Stored configs were validated on write; still never trust them enough to throw.
    if (validateGeneric(config) !== undefined) return fail('invalid hmac verification config');
    return outcome(
      verifyBodyHmac(request, config, {
        header: config.header as string,
        algorithm: config.algorithm as HmacAlgorithm,
        encoding: config.encoding as DigestEncoding,
        prefix: (config.prefix as string | undefined) ?? '',
      }),
    );
  },
};
