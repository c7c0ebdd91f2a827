/**
 * The one registry of error codes. Every `{code, message}` body Hookyard sends uses a code from here,
 * and docs/errors.md documents each (a test keeps the two in step).
 */
export const ERROR_CODES = {
  bad_request: { status: 400, description: 'The request is malformed (for example, invalid JSON).' },
  unauthorized: { status: 401, description: 'The bearer token is missing or invalid.' },
  invalid_signature: { status: 401, description: 'An inbound webhook failed its signature or credential check.' },
  forbidden: { status: 403, description: 'The token is valid but does not have rights to this resource.' },
  ip_not_allowed: { status: 403, description: "An inbound webhook came from an address outside the source's IP allowlist." },
  not_found: { status: 404, description: 'No such resource (or not visible to this token).' },
  method_not_allowed: { status: 405, description: 'The HTTP method is not accepted here.' },
  conflict: { status: 409, description: 'The resource already exists (details carry the existing id) or is in a state that forbids this.' },
  request_timeout: { status: 408, description: 'The request (headers or body) did not arrive in time; the connection is closed.' },
  idempotency_in_progress: { status: 409, description: 'A request with the same Idempotency-Key is still being processed.' },
  not_supported: { status: 400, description: 'The Svix-compatible API has no counterpart for this call, field or value; the message names it.' },
  payload_too_large: { status: 413, description: 'The body exceeds the configured size limit.' },
  uri_too_long: { status: 414, description: 'A path parameter is longer than any identifier Hookyard accepts.' },
  unsupported_media_type: { status: 415, description: 'The Content-Type is not accepted by this route.' },
  validation_error: { status: 422, description: 'The body, query or path parameters do not match the schema.' },
  payload_invalid: { status: 422, description: "A message payload does not match its event type's JSON Schema." },
  unsafe_destination: { status: 422, description: 'The URL points to a private or reserved address and private destinations are not allowed.' },
  rate_limited: { status: 429, description: 'Too many requests.' },
  headers_too_large: { status: 431, description: 'The request headers exceed the 16 KiB limit; the connection is closed.' },
  workflow_failed: { status: 502, description: "A sync-mode workflow failed before deciding an answer; the request and the execution are stored, and the execution can be retried." },
  handler_failed: { status: 502, description: "A sync-mode source's handler threw or returned nothing usable; the request is stored and replayable." },
  internal_error: { status: 500, description: 'An unexpected failure; details are in the server log, never in the response.' },
  unavailable: { status: 503, description: 'The database is unreachable or the server is shutting down.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HookyardError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HookyardError';
    this.statusCode = ERROR_CODES[code].status;
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export const notFound = (what: string): HookyardError => new HookyardError('not_found', `${what} not found`);
