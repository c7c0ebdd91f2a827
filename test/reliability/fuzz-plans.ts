import fc from 'fast-check';

/*
 * What the fuzz test's requests are made of (fast-check arbitraries): hostile text, plausible and implausible values
 * for every body field of the API, path parameters that name real resources or anything else, credentials, content
 * types, bodies. A plan refers to resources by pool index; fuzz.test.ts turns it into a request with the ids the
 * server has handed out so far.
 */

/** The server's HOOKYARD_MAX_BODY_BYTES: some bodies sit at it, some go past it. */
export const MAX_BODY = 65_536;
/** The secret of the fuzzed `github` source (plans may sign with it). */
export const GH_SECRET = 'fuzz-github-secret';

const HOSTILE = [
  '', ' ', '..', '%2e%2e', '%00', '%', '%zz', '%C0%AE', '__proto__', 'constructor', 'prototype', "' OR 1=1 --", '${7*7}', '{{7*7}}',
  '<script>', '\\', 'null', 'NaN', '-1', '0', '1e309', 'app_', 'msg_0', 'ep_00000000000000000000000000', 'a'.repeat(300), '😀', '\u202e', 'x/../y',
  '%2F', ';', '*', 'hookyard-operational', 'hookyard-forward-src_x',
];
const hostile = fc.constantFrom(...HOSTILE);
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), hostile);
const name = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_.-]{0,20}$/), text);
/** Deep nesting travels as a placeholder (a counterexample that deep could not be printed) and is expanded when sent. */
const DEEP = /"__deep_(\d+)__"/g;
export const expandDeep = (json: string) => json.replace(DEEP, (_m, n: string) => `${'['.repeat(Number(n))}${']'.repeat(Number(n))}`);
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), text, fc.double(), fc.constant(null), fc.integer({ min: 1_000, max: 20_000 }).map((n) => `__deep_${n}__`));
const headerName = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), fc.constantFrom('content-type', 'user-agent', 'webhook-id', 'x-forwarded-for', 'bad header', ''));
/** What a client can put in a request header: Latin-1 without control characters (fetch refuses the rest). */
const latin1 = fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c));
const requestHeaderName = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), fc.constantFrom('content-type', 'user-agent', 'webhook-id', 'x-forwarded-for', 'x-forwarded-proto', 'accept', 'last-event-id', 'expect'));
const requestHeaderValue = fc.oneof({ weight: 9, arbitrary: fc.string({ unit: latin1, maxLength: 40 }) }, { weight: 1, arbitrary: fc.constantFrom('x'.repeat(5_000), '', ' ') });
/** Endpoint and response headers (JSON fields) may also try the ones Hookyard or HTTP reserve. */
const configuredHeaderName = fc.oneof(headerName, fc.constantFrom('host', 'content-length', 'Transfer-Encoding', 'connection', 'webhook-signature'));
const headerValue = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('line\r\nbreak', '\u0000', 'x'.repeat(5_000)));
const secret = fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 70 }).map((b) => `whsec_${Buffer.from(b).toString('base64')}`), text);
const date = fc.oneof(fc.date({ noInvalidDate: true, min: new Date(-8.64e15), max: new Date(8.64e15) }).map((d) => d.toISOString()), text);
const limits = fc.oneof(fc.integer({ min: -5, max: 1_000_000 }), fc.double(), fc.constant(null));

/** Destination URLs stay on this machine (the server allows private destinations so deliveries really happen). */
let sinkUrl = '';
/** Where the fuzzed endpoints and forwards point: a receiver of the test's. */
export function useSink(url: string): void {
  sinkUrl = url;
}
const url = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(text, text).map(([path, query]) => `${sinkUrl}/${encodeURIComponent(path)}?q=${encodeURIComponent(query)}`) },
  { weight: 1, arbitrary: fc.constantFrom('http://127.0.0.1:1/', 'http://localhost:1/x', 'http://[::1]:1/', 'http://2130706433:1/', 'ftp://127.0.0.1/', 'javascript:alert(1)', 'http://user:pw@127.0.0.1:1/', '/relative') },
  { weight: 1, arbitrary: text },
);

/** Plausible values per body field, so that many requests pass validation and reach the code behind it. */
const FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  name, uid: fc.oneof(name, fc.constant('app_x')), description: text, metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  url, eventTypes: fc.oneof(fc.constant(null), fc.array(name, { maxLength: 3 })), secret, key: secret, events: fc.array(name, { maxLength: 3 }),
  headers: fc.dictionary(configuredHeaderName, headerValue, { maxKeys: 3 }), rateLimit: limits, timeoutMs: limits, disabled: fc.boolean(),
  eventType: name, eventId: text, since: date, until: date,
  payload: fc.oneof(fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 5 }), anyJson),
  methods: fc.array(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'get', 'TRACE', ''), { maxLength: 5 }),
  verification: fc.oneof(fc.constant(null), fc.record({
    type: fc.constantFrom('none', 'github', 'stripe', 'shopify', 'slack', 'twilio', 'standard-webhooks', 'polar', 'zoom', 'paddle', 'square', 'linear', 'intercom', 'hmac', 'basic', 'bearer', 'bogus'),
    secret: fc.oneof(secret, fc.constant(GH_SECRET)), secrets: fc.array(text, { maxLength: 3 }), toleranceSeconds: fc.integer({ min: -10, max: 1e9 }),
    header: headerName, algorithm: fc.constantFrom('sha1', 'sha256', 'sha512', 'md5'), encoding: fc.constantFrom('hex', 'base64', 'binary'), prefix: text,
    username: text, password: text, token: text, notificationUrl: url, publicUrl: url,
  }, { requiredKeys: ['type'] })),
  ipAllowlist: fc.oneof(fc.constant(null), fc.array(fc.constantFrom('10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8', '0.0.0.0/0', '300.1.1.1', '1.2.3.4/33', 'abc', ''), { maxLength: 3 })),
  dedup: fc.oneof(fc.constant(null), fc.record({ header: fc.constantFrom('x-id', 'X-Request-Id', 'bad header', ''), jsonPath: fc.constantFrom('$.id', '$.a[0].b', '$..x', 'id', '$.__proto__', '$.constructor.prototype') }, { requiredKeys: [] })),
  // Fixed answers with a 5xx status are the operator's choice, and 1xx ones hang the sender (a bug, pinned below).
  response: fc.oneof(fc.constant(null), fc.record({
    mode: fc.constantFrom('sync', 'async', 'other'), status: fc.integer({ min: 200, max: 499 }),
    headers: fc.dictionary(configuredHeaderName, headerValue, { maxKeys: 3 }), body: fc.jsonValue({ maxDepth: 2 }),
  }, { requiredKeys: ['mode'] })),
  handler: fc.oneof(fc.constant(null), fc.constantFrom('fuzz', '../handlers/fuzz', 'x..y', 'missing', 'a'.repeat(101)), text),
  forward: fc.array(fc.oneof(fc.record({ url }), fc.record({ app: fc.constantFrom('fz-a', 'fz-b', 'nope'), eventType: name })), { maxLength: 2 }),
  schema: fc.oneof(fc.constant(null), fc.constantFrom<unknown>({ type: 'object' }, { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
    { $ref: '#/definitions/missing' }, { $ref: 'http://127.0.0.1:1/schema.json' }, { type: 'nonsense' }), fc.jsonValue({ maxDepth: 3 })),
};

/** A path parameter: an id the server handed out (of the right kind or another), or any text, encoded or not. */
export type ParamPlan = { kind: 'pool'; n: number } | { kind: 'other'; n: number } | { kind: 'encoded'; s: string } | { kind: 'raw'; s: string };
const param: fc.Arbitrary<ParamPlan> = fc.oneof(
  { weight: 6, arbitrary: fc.nat().map((n) => ({ kind: 'pool' as const, n })) },
  { weight: 1, arbitrary: fc.nat().map((n) => ({ kind: 'other' as const, n })) },
  { weight: 2, arbitrary: text.map((s) => ({ kind: 'encoded' as const, s })) },
  { weight: 1, arbitrary: hostile.map((s) => ({ kind: 'raw' as const, s })) },
);
const query = fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.array(fc.tuple(
  fc.constantFrom('limit', 'cursor', 'before', 'after', 'eventType', 'status', '__proto__', 'a[b]', ''),
  fc.oneof(fc.constantFrom('0', '1', '250', '251', '-1', '1e3', 'abc', '2020-01-01T00:00:00Z', 'not-a-date', 'accepted', '%ZZ', ''), text),
), { maxLength: 3 }).map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`)) });
export const AUTHS = ['admin', 'key', 'otherKey', 'revoked', 'garbage', 'none', 'basic', 'lowercase', 'empty', 'long'] as const;
const AUTH_WEIGHTS: Record<(typeof AUTHS)[number], number> = { admin: 10, key: 4, otherKey: 1, revoked: 1, garbage: 1, none: 1, basic: 1, lowercase: 1, empty: 1, long: 1 };
const auth = fc.oneof(...AUTHS.map((a) => ({ weight: AUTH_WEIGHTS[a], arbitrary: fc.constant(a) })));
/** Mostly none (the API then gets application/json); otherwise something else, real or not. */
const contentType = fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-16', 'text/plain',
  'application/x-www-form-urlencoded', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/vnd.api+json', 'json', ';', 'a/b/c d', '*/*') });
/** A body, printed short in a counterexample. */
export class Bytes {
  constructor(readonly data: Buffer) {}
  [fc.toStringMethod](): string {
    return `Bytes(${this.data.length}: ${JSON.stringify(this.data.subarray(0, 80).toString('latin1'))})`;
  }
}
const bytes = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 2, arbitrary: text },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2_048 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constantFrom('a=1&a=2&__proto__[x]=1', '%', 'k=%FF%FE') },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_BODY - 2, max: 2 * MAX_BODY }).map((n) => Buffer.alloc(n, 0x7b)) },
).map((body) => new Bytes(Buffer.isBuffer(body) ? body : Buffer.from(body)));

export interface Operation {
  method: string;
  path: string;
  fields: string[];
  required: string[];
}

export type Plan =
  | { kind: 'api'; op: number; method: string; params: ParamPlan[]; query: string; body: 'none' | 'raw' | Record<string, unknown>; raw: Bytes; auth: (typeof AUTHS)[number]; contentType: string | undefined; headers: Array<[string, string]>; idempotencyKey: string | null }
  | { kind: 'inbound'; source: ParamPlan; prefix: string; sub: string; query: string; method: string; contentType: string | undefined; headers: Array<[string, string]>; body: Bytes; sign: boolean }
  | { kind: 'other'; path: string; method: string };

export function planArbitrary(operations: Operation[]): fc.Arbitrary<Plan> {
  const otherMethod = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS');
  const api = fc.integer({ min: 0, max: operations.length - 1 }).chain((op) => {
    const operation = operations[op]!;
    const known = Object.fromEntries(operation.fields.map((f) => [f, Object.hasOwn(FIELDS, f) ? FIELDS[f]! : anyJson]));
    const anything = { ...Object.fromEntries(operation.fields.map((f) => [f, anyJson])), extra: anyJson, ['__proto__']: anyJson };
    return fc.record({
      kind: fc.constant('api' as const),
      op: fc.constant(op),
      method: fc.oneof({ weight: 9, arbitrary: fc.constant(operation.method) }, { weight: 1, arbitrary: otherMethod }),
      params: fc.tuple(...(operation.path.match(/\{\w+\}/g) ?? []).map(() => param)),
      query,
      // Mostly plausible bodies with the required fields (they reach the code behind validation), then anything.
      body: fc.oneof(
        { weight: 5, arbitrary: fc.record(known, { requiredKeys: operation.required }) },
        { weight: 2, arbitrary: fc.record(anything, { requiredKeys: [] }) },
        { weight: 1, arbitrary: fc.constantFrom<'none' | 'raw'>('none', 'raw') },
      ),
      raw: bytes,
      auth,
      contentType,
      headers: fc.array(fc.tuple(requestHeaderName, requestHeaderValue), { maxLength: 2 }),
      idempotencyKey: fc.option(fc.oneof(fc.string({ unit: latin1, maxLength: 20 }), fc.constant('k'.repeat(300))), { nil: null }),
    }) as fc.Arbitrary<Plan>;
  });
  const inbound = fc.record({
    kind: fc.constant('inbound' as const),
    source: fc.oneof({ weight: 4, arbitrary: fc.nat().map((n): ParamPlan => ({ kind: 'pool', n })) }, { weight: 1, arbitrary: param }),
    prefix: fc.constantFrom('/in', '/webhooks'),
    sub: fc.oneof(fc.constant(''), text.map((s) => `/${encodeURIComponent(s)}`), fc.constantFrom('/a/b/c', '/%2e%2e/x', '/..', '//')),
    query,
    method: fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, { weight: 2, arbitrary: fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS') }),
    contentType,
    headers: fc.array(fc.tuple(fc.oneof(requestHeaderName, fc.constantFrom('x-hub-signature-256', 'stripe-signature', 'authorization', 'x-delivery-id', 'x-github-delivery', 'webhook-signature')), requestHeaderValue), { maxLength: 3 }),
    body: bytes,
    sign: fc.boolean(),
  });
  const other = fc.record({
    kind: fc.constant('other' as const),
    path: fc.oneof(fc.constantFrom('/', '/dashboard', '/dashboard/', '/docs', '/docs/json', '/openapi.json', '/health', '/metrics'), fc.tuple(fc.constantFrom('dashboard/', 'docs/', 'docs/static/', 'api/v1/', 'api/v2/', 'v3/', 'in/', ''), text).map(([prefix, s]) => `/${prefix}${encodeURIComponent(s)}`)),
    method: otherMethod,
  });
  return fc.oneof({ weight: 6, arbitrary: api }, { weight: 3, arbitrary: inbound }, { weight: 1, arbitrary: other });
}
