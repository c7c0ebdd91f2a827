import { isValidEndpointSecret, newEndpointSecret } from '../crypto/tokens.js';
import { checkDestinationUrl } from '../delivery/ssrf.js';
import { HookyardError } from '../errors.js';
import { newId } from '../ids.js';
import type { Endpoint, EndpointFlavor, EndpointOrdering, EndpointPatch, Json, PayloadMode, Store } from '../store/store.js';

export interface EndpointInput {
  url?: string;
  description?: string;
  eventTypes?: string[] | null;
  /** null or [] = no channel filter. */
  channels?: string[] | null;
  secret?: string;
  headers?: Record<string, string>;
  rateLimit?: number | null;
  timeoutMs?: number | null;
  disabled?: boolean;
  payloadMode?: PayloadMode;
  ordering?: EndpointOrdering;
  metadata?: Json;
}

/** An empty channel list filters nothing, as no list: both are stored as null. */
const channelsOf = (channels: string[] | null | undefined): string[] | null => (channels && channels.length > 0 ? channels : null);

const SECRET_OVERLAP_MS = 24 * 3_600_000;

// Headers Hookyard sets itself (or that would break the request) cannot be overridden per endpoint.
const RESERVED_HEADER = /^(host|content-length|content-type|transfer-encoding|connection|keep-alive|upgrade|te|trailer|user-agent|webhook-.*|polar-webhook-.*)$/i;

export function checkEndpointUrl(url: string, allowPrivate: boolean): string {
  const verdict = checkDestinationUrl(url, allowPrivate);
  if (verdict.ok) return verdict.url.toString();
  const unsafe = /private|reserved|loopback|local/i.test(verdict.reason);
  throw new HookyardError(unsafe ? 'unsafe_destination' : 'validation_error', `url is not allowed: ${verdict.reason}`, [{ path: '/body/url', message: verdict.reason }]);
}

function checkHeaders(headers: Record<string, string> | undefined): void {
  for (const name of Object.keys(headers ?? {})) {
    if (RESERVED_HEADER.test(name)) {
      throw new HookyardError('validation_error', `header "${name}" is set by Hookyard and cannot be overridden`, [{ path: `/body/headers/${name}`, message: 'reserved header' }]);
    }
  }
}

function checkSecret(secret: string | undefined): string {
  if (secret === undefined) return newEndpointSecret();
  if (!isValidEndpointSecret(secret)) {
    throw new HookyardError('validation_error', 'secret must be "whsec_" followed by base64 of 24 to 64 bytes', [{ path: '/body/secret', message: 'invalid secret format' }]);
  }
  return secret;
}

/** Endpoint rules shared by the Svix-style API and the Polar-style registration. */
export class EndpointService {
  constructor(
    private readonly store: Store,
    private readonly allowPrivate: boolean,
  ) {}

  async create(appId: string, input: EndpointInput & { url: string }, flavor: EndpointFlavor = 'standard', now = Date.now()): Promise<{ endpoint: Endpoint; secret: string }> {
    const url = checkEndpointUrl(input.url, this.allowPrivate);
    checkHeaders(input.headers);
    const secret = checkSecret(input.secret);
    const endpoint: Endpoint = {
      id: newId('ep', now),
      appId,
      url,
      description: input.description ?? '',
      eventTypes: input.eventTypes ?? null,
      channels: channelsOf(input.channels),
      headers: input.headers ?? {},
      rateLimit: input.rateLimit ?? null,
      timeoutMs: input.timeoutMs ?? null,
      disabled: input.disabled ?? false,
      disabledReason: input.disabled ? 'manual' : null,
      failingSince: null,
      flavor,
      payloadMode: input.payloadMode ?? 'full',
      ordering: input.ordering ?? 'parallel',
      metadata: input.metadata ?? {},
      createdAt: now,
      updatedAt: now,
    };
    return { endpoint: await this.store.createEndpoint(endpoint, secret), secret };
  }

  async update(appId: string, id: string, input: EndpointInput, now = Date.now()): Promise<Endpoint | null> {
    const patch: EndpointPatch = {};
    if (input.url !== undefined) patch.url = checkEndpointUrl(input.url, this.allowPrivate);
    if (input.headers !== undefined) {
      checkHeaders(input.headers);
      patch.headers = input.headers;
    }
    if (input.secret !== undefined) throw new HookyardError('validation_error', 'use POST …/secret/rotate to change the secret', [{ path: '/body/secret', message: 'not updatable' }]);
    if (input.channels !== undefined) patch.channels = channelsOf(input.channels);
    for (const field of ['description', 'eventTypes', 'rateLimit', 'timeoutMs', 'payloadMode', 'ordering', 'metadata'] as const) {
      if (input[field] !== undefined) (patch as Record<string, unknown>)[field] = input[field];
    }
    if (input.disabled !== undefined) {
      patch.disabled = input.disabled;
      if (input.disabled) patch.disabledReason = 'manual';
    }
    return this.store.updateEndpoint(appId, id, patch, now);
  }

  /** `overlapMs`: how long the previous secrets keep signing beside the new one (the Svix API's grace period). */
  async rotateSecret(endpointId: string, key: string | undefined, now = Date.now(), overlapMs = SECRET_OVERLAP_MS): Promise<string> {
    const secret = checkSecret(key);
    await this.store.rotateSecret(endpointId, secret, now + overlapMs, now);
    return secret;
  }
}
