import { exampleFor } from '../domain/schema-example.js';
import { REDACTED } from '../domain/sources.js';
import { isUtf8Text, parseQuery } from '../inbound/body.js';
import type { ApiKey, App, Attempt, Delivery, Endpoint, EventType, InboundRecord, Message, Source } from '../store/store.js';

/** Domain objects → API JSON (camelCase, RFC 3339 times). */

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export const appJson = (app: App) => ({
  id: app.id,
  uid: app.uid,
  name: app.name,
  metadata: app.metadata,
  portal: app.portal,
  createdAt: iso(app.createdAt),
  updatedAt: iso(app.updatedAt),
});

export const apiKeyJson = (key: ApiKey, token?: string) => ({
  id: key.id,
  appId: key.appId,
  name: key.name,
  ...(token === undefined ? {} : { token }),
  kind: key.kind,
  expiresAt: isoOrNull(key.expiresAt),
  readOnly: key.readOnly,
  createdAt: iso(key.createdAt),
});

export const eventTypeJson = (eventType: EventType) => ({
  name: eventType.name,
  description: eventType.description,
  schema: eventType.schema,
  resourceUrlTemplate: eventType.resourceUrlTemplate,
  example: exampleFor(eventType.schema),
  createdAt: iso(eventType.createdAt),
  updatedAt: iso(eventType.updatedAt),
});

export const endpointJson = (endpoint: Endpoint) => ({
  id: endpoint.id,
  appId: endpoint.appId,
  url: endpoint.url,
  description: endpoint.description,
  eventTypes: endpoint.eventTypes,
  channels: endpoint.channels,
  headers: endpoint.headers,
  rateLimit: endpoint.rateLimit,
  timeoutMs: endpoint.timeoutMs,
  disabled: endpoint.disabled,
  disabledReason: endpoint.disabledReason,
  failingSince: isoOrNull(endpoint.failingSince),
  payloadMode: endpoint.payloadMode,
  ordering: endpoint.ordering,
  metadata: endpoint.metadata,
  createdAt: iso(endpoint.createdAt),
  updatedAt: iso(endpoint.updatedAt),
});

export const messageJson = (message: Message) => ({
  id: message.id,
  eventType: message.eventType,
  eventId: message.eventId,
  payload: JSON.parse(message.payload) as unknown,
  channels: message.channels,
  resourceUrl: message.resourceUrl,
  timestamp: iso(message.createdAt),
});

export const attemptJson = (attempt: Attempt) => ({
  id: attempt.id,
  messageId: attempt.messageId,
  endpointId: attempt.endpointId,
  url: attempt.url,
  status: attempt.status,
  responseStatusCode: attempt.responseStatusCode,
  response: attempt.response,
  error: attempt.error,
  durationMs: attempt.durationMs,
  attempt: attempt.attempt,
  trigger: attempt.trigger,
  timestamp: iso(attempt.createdAt),
  nextAttemptAt: isoOrNull(attempt.nextAttemptAt),
});

export const deliveryJson = (delivery: Delivery) => ({
  endpointId: delivery.endpointId,
  status: delivery.status,
  attempts: delivery.attempts,
  nextAttemptAt: isoOrNull(delivery.nextAttemptAt),
  lastError: delivery.lastError,
  updatedAt: iso(delivery.updatedAt),
});

// Fields of a verification config that hold credentials: never sent back, only their presence.
const SECRET_FIELDS = new Set(['secret', 'secrets', 'password', 'token']);

export const sourceJson = (source: Source, baseUrl: string) => ({
  id: source.id,
  name: source.name,
  description: source.description,
  url: `${baseUrl}/in/${source.name}`,
  methods: source.methods,
  verification: source.verification === null
    ? null
    : Object.fromEntries(Object.entries(source.verification).map(([key, value]) => [key, SECRET_FIELDS.has(key) ? redact(value) : value])),
  ipAllowlist: source.ipAllowlist,
  dedup: source.dedup,
  response: source.response,
  handler: source.handler,
  forward: source.forward,
  ordering: source.ordering ?? null,
  createdAt: iso(source.createdAt),
  updatedAt: iso(source.updatedAt),
});

const redact = (value: unknown): unknown => (Array.isArray(value) ? value.map(() => REDACTED) : REDACTED);

export const inboundRequestJson = (record: InboundRecord) => {
  const text = isUtf8Text(record.body);
  return {
    id: record.id,
    sourceId: record.sourceId,
    method: record.method,
    path: record.path,
    query: parseQuery(record.query),
    headers: record.headers,
    body: record.body.toString(text ? 'utf8' : 'base64'),
    bodyEncoding: text ? ('utf8' as const) : ('base64' as const),
    receivedAt: iso(record.receivedAt),
    status: record.status,
    responseStatus: record.responseStatus,
    verified: record.verified,
    reason: record.reason,
    duplicateOf: record.duplicateOf,
    stale: record.stale,
    processing: {
      status: record.processing.status,
      output: record.processing.output,
      error: record.processing.error,
      durationMs: record.processing.durationMs,
      finishedAt: isoOrNull(record.processing.finishedAt),
    },
  };
};
