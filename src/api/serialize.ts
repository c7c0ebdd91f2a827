import type { ApiKey, App, Attempt, Delivery, Endpoint, EventType, Message } from '../store/store.js';

/** Domain objects → API JSON (camelCase, RFC 3339 times). */

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export const appJson = (app: App) => ({
  id: app.id,
  uid: app.uid,
  name: app.name,
  metadata: app.metadata,
  createdAt: iso(app.createdAt),
  updatedAt: iso(app.updatedAt),
});

export const apiKeyJson = (key: ApiKey, token?: string) => ({
  id: key.id,
  appId: key.appId,
  name: key.name,
  ...(token === undefined ? {} : { token }),
  createdAt: iso(key.createdAt),
});

export const eventTypeJson = (eventType: EventType) => ({
  name: eventType.name,
  description: eventType.description,
  schema: eventType.schema,
  createdAt: iso(eventType.createdAt),
  updatedAt: iso(eventType.updatedAt),
});

export const endpointJson = (endpoint: Endpoint) => ({
  id: endpoint.id,
  appId: endpoint.appId,
  url: endpoint.url,
  description: endpoint.description,
  eventTypes: endpoint.eventTypes,
  headers: endpoint.headers,
  rateLimit: endpoint.rateLimit,
  timeoutMs: endpoint.timeoutMs,
  disabled: endpoint.disabled,
  disabledReason: endpoint.disabledReason,
  failingSince: isoOrNull(endpoint.failingSince),
  metadata: endpoint.metadata,
  createdAt: iso(endpoint.createdAt),
  updatedAt: iso(endpoint.updatedAt),
});

export const messageJson = (message: Message) => ({
  id: message.id,
  eventType: message.eventType,
  eventId: message.eventId,
  payload: JSON.parse(message.payload) as unknown,
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
