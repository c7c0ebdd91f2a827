import { createHash } from 'node:crypto';
import type { InboundRequest, VerificationConfig, VerificationPreset } from './preset.js';
import { constantTimeEqual, fail, headerOf, hmacDigest, matchKey, secretsOf, validateSigned } from './compare.js';

// Twilio signs the URL it requested, character for character, so URLs are split by hand, never re-serialised by `new URL`.
const ORIGIN = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i;

/** `rest` is everything after the authority: path, query (and fragment). */
function splitUrl(url: string): { scheme: string; userInfo: string; host: string; port: string; rest: string } | undefined {
  const match = ORIGIN.exec(url);
  if (match === null) return undefined;
  const [prefix, scheme = '', authority = ''] = match;
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // In an IPv6 literal the port colon comes after the closing bracket.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

/** Both spellings the twilio SDK tries: without any port, and with the scheme's default port when none is given. */
function portVariants(url: string): string[] {
  const parts = splitUrl(url);
  if (parts === undefined) return [url];
  const base = parts.scheme + parts.userInfo + parts.host;
  const defaultPort = parts.scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return [...new Set([base + parts.rest, base + (parts.port || defaultPort) + parts.rest])];
}

/** Checks an absolute http(s) URL option; only a full notification URL may carry a query. */
export function validateUrlOption(config: VerificationConfig, field: string, allowQuery: boolean): string | undefined {
  const value = config[field];
  if (value === undefined) return undefined;
  const message = `${field} must be an absolute http(s) URL${allowQuery ? '' : ' without query'}`;
  if (typeof value !== 'string' || !ORIGIN.test(value) || value.includes('#')) return message;
  if (!allowQuery && value.includes('?')) return message;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:' ? undefined : message;
  } catch {
    return message;
  }
}

/** The URL the sender addressed: behind a proxy, `publicUrl` (scheme, host, base path) + the request's path and query. */
export function publicRequestUrl(request: InboundRequest, config: VerificationConfig): string {
  if (typeof config.publicUrl !== 'string') return request.url;
  const rest = splitUrl(request.url)?.rest ?? request.url;
  return config.publicUrl.replace(/\/+$/, '') + rest;
}

/** Twilio's form-parameter string: keys sorted, each key+value concatenated; repeated keys' distinct values sorted (as the SDK). */
function formParamString(body: Buffer): string {
  const params = new Map<string, Set<string>>();
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
    const values = params.get(key) ?? new Set<string>();
    params.set(key, values.add(value));
  }
  return [...params.keys()]
    .sort()
    .map((key) => [...(params.get(key) ?? [])].sort().map((value) => key + value).join(''))
    .join('');
}

function queryParam(url: string, name: string): string | null {
  const start = url.indexOf('?');
  return start < 0 ? null : new URLSearchParams(url.slice(start + 1)).get(name);
}

export const twilioPreset: VerificationPreset = {
  type: 'twilio',
  validate: (config) => validateSigned(config) ?? validateUrlOption(config, 'publicUrl', false),
  verify(request, config) {
    const signature = headerOf(request, 'X-Twilio-Signature');
    if (signature === undefined) return fail('missing X-Twilio-Signature header');
    const secrets = secretsOf(config);
    if (secrets.length === 0) return fail('no secret configured');
    const url = publicRequestUrl(request, config);
    // JSON bodies: Twilio signs the URL only and vouches for the body through bodySHA256 in that URL.
    const bodyHash = queryParam(url, 'bodySHA256');
    const contentType = headerOf(request, 'content-type')?.toLowerCase() ?? '';
    let params = '';
    if (bodyHash === null && contentType.startsWith('application/x-www-form-urlencoded')) {
      params = formParamString(request.rawBody);
    } else if (bodyHash === null && request.rawBody.length > 0) {
      return fail('body not covered by signature (no bodySHA256 and not a form)');
    }
    const pairs = secrets.flatMap((secret) => portVariants(url).map((candidate) => [secret, candidate + params] as const));
    if (matchKey(pairs, [signature], ([secret, data]) => hmacDigest('sha1', secret, [data], 'base64')) === undefined) {
      return fail('signature mismatch');
    }
    if (bodyHash !== null) {
      const actual = createHash('sha256').update(request.rawBody).digest('hex');
      if (!constantTimeEqual(bodyHash.toLowerCase(), actual)) return fail('bodySHA256 mismatch');
    }
    return { ok: true };
  },
};
