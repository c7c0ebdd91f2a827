import type { App, Attempt, Delivery, DeliveryStatus, Endpoint, EventType, Message } from '../../store/store.js';

/** Domain objects → the Svix API's JSON (the `*Out` models of the Svix SDKs). Ids are Hookyard's own. */

const iso = (ms: number): string => new Date(ms).toISOString();

/** Svix's MessageStatus: 0 success, 1 pending, 2 fail, 3 sending (4 canceled never occurs here). */
const STATUS: Record<DeliveryStatus, { status: number; statusText: string }> = {
  succeeded: { status: 0, statusText: 'success' },
  pending: { status: 1, statusText: 'pending' },
  failed: { status: 2, statusText: 'fail' },
  sending: { status: 3, statusText: 'sending' },
};

export const svixStatusOf = (status: DeliveryStatus) => STATUS[status];

export const applicationOut = (app: App) => ({
  id: app.id,
  uid: app.uid,
  name: app.name,
  metadata: app.metadata,
  rateLimit: null,
  throttleRate: null,
  createdAt: iso(app.createdAt),
  updatedAt: iso(app.updatedAt),
});

/** Svix keys schemas by version; Hookyard has one schema per event type, shown as version "1". */
export const eventTypeOut = (eventType: EventType, withContent = true) => ({
  name: eventType.name,
  description: eventType.description,
  schemas: withContent && eventType.schema !== null ? { 1: eventType.schema } : null,
  archived: false,
  deprecated: false,
  featureFlags: null,
  groupName: null,
  createdAt: iso(eventType.createdAt),
  updatedAt: iso(eventType.updatedAt),
});

const endpointFields = (endpoint: Endpoint) => ({
  id: endpoint.id,
  uid: null,
  url: endpoint.url,
  description: endpoint.description,
  filterTypes: endpoint.eventTypes,
  channels: endpoint.channels,
  disabled: endpoint.disabled,
  rateLimit: endpoint.rateLimit,
  throttleRate: endpoint.rateLimit,
  version: 1,
  createdAt: iso(endpoint.createdAt),
  updatedAt: iso(endpoint.updatedAt),
});

export const endpointOut = (endpoint: Endpoint) => ({ ...endpointFields(endpoint), metadata: endpoint.metadata });

/** An endpoint with the state of one message's delivery to it (listAttemptedDestinations). */
export const messageEndpointOut = (endpoint: Endpoint, delivery: Delivery) => ({
  ...endpointFields(endpoint),
  ...svixStatusOf(delivery.status),
  nextAttempt: delivery.nextAttemptAt === null ? null : iso(delivery.nextAttemptAt),
});

export const messageOut = (message: Message, withContent = true) => ({
  id: message.id,
  eventType: message.eventType,
  eventId: message.eventId,
  payload: withContent ? (JSON.parse(message.payload) as unknown) : {},
  channels: message.channels,
  tags: null,
  deliverAt: null,
  timestamp: iso(message.createdAt),
});

export const attemptOut = (attempt: Attempt, options: { withContent?: boolean; msg?: Message | undefined } = {}) => ({
  id: attempt.id,
  msgId: attempt.messageId,
  endpointId: attempt.endpointId,
  url: attempt.url,
  // A network failure has no status code: Svix reports 0, with the error as the response.
  responseStatusCode: attempt.responseStatusCode ?? 0,
  response: options.withContent === false ? '' : attempt.response !== '' ? attempt.response : (attempt.error ?? ''),
  responseDurationMs: attempt.durationMs,
  ...(attempt.status === 'success' ? STATUS.succeeded : STATUS.failed),
  triggerType: attempt.trigger === 'manual' ? 1 : 0,
  timestamp: iso(attempt.createdAt),
  ...(options.msg === undefined ? {} : { msg: messageOut(options.msg, options.withContent) }),
});
