import { HookyardError } from '../errors.js';
import { newId } from '../ids.js';
import type { Metrics } from '../metrics.js';
import { GroupCommit, writeConcurrency } from '../store/group-commit.js';
import type { App, Endpoint, InsertMessageResult, Json, Message, NewMessage, Store } from '../store/store.js';
import type { WorkSignal } from '../work-signal.js';
import type { EventSchemas } from './event-schemas.js';

export interface SendMessageInput {
  eventType: string;
  payload: Json;
  eventId?: string | undefined;
}

export function endpointWants(endpoint: Endpoint, eventType: string): boolean {
  return !endpoint.disabled && (endpoint.eventTypes === null || endpoint.eventTypes.includes(eventType));
}

/**
 * Accepting a message: validate the payload, find the subscribed endpoints, then commit the message and one delivery
 * per endpoint in one transaction (the outbox) before the caller answers 202. Concurrent sends share a transaction.
 */
export class MessageService {
  private readonly batcher: GroupCommit<NewMessage, InsertMessageResult>;

  constructor(
    private readonly store: Store,
    private readonly schemas: EventSchemas,
    private readonly signal: WorkSignal,
    private readonly metrics: Metrics,
  ) {
    this.batcher = new GroupCommit((items) => store.insertMessages(items), 128, 0, writeConcurrency(store.dialect));
  }

  async send(app: App, input: SendMessageInput, now = Date.now()): Promise<Message> {
    // Two independent reads, side by side: on PostgreSQL each is a round trip.
    const [eventType, endpoints] = await Promise.all([this.store.getEventType(input.eventType), this.store.listEnabledEndpoints(app.id)]);
    if (eventType) this.schemas.validate(eventType, input.payload);
    const message: Message = {
      id: newId('msg', now),
      appId: app.id,
      eventType: input.eventType,
      eventId: input.eventId ?? null,
      payload: JSON.stringify(input.payload),
      createdAt: now,
    };
    const endpointIds = endpoints.filter((endpoint) => endpointWants(endpoint, input.eventType)).map((endpoint) => endpoint.id);
    const result = await this.batcher.submit({ message, endpointIds });
    if (!result.ok) {
      throw new HookyardError('conflict', `a message with eventId "${input.eventId}" already exists in this app`, { id: result.existingId });
    }
    this.metrics.messagesAccepted.inc();
    if (endpointIds.length > 0) this.signal.notify();
    return result.message;
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }
}
