import { HookyardError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { Metrics } from '../metrics.js';
import { GroupCommit, writeConcurrency } from '../store/group-commit.js';
import type { App, ClaimedDelivery, DeliveryLease, FanoutEndpoint, InsertMessageResult, Json, Message, NewMessage, Store } from '../store/store.js';
import type { WorkSignal } from '../work-signal.js';
import type { EventSchemas } from './event-schemas.js';
import { renderResourceUrl } from './resource-url.js';

export interface SendMessageInput {
  eventType: string;
  payload: Json;
  eventId?: string | undefined;
  /** Reaches endpoints without a channel filter and those listening to one of these. */
  channels?: string[] | undefined;
  /** Where a thin delivery points; by default rendered from the event type's resourceUrlTemplate. */
  resourceUrl?: string | undefined;
}

export interface SendOptions {
  now?: number;
  /**
   * Resolves the app again when the configuration changed under the send (another node's change, not yet notified):
   * the API route re-authenticates there too. By default the app is read again by id (gone: 404).
   */
  refresh?: () => Promise<App>;
  /** A test event: to this endpoint only (enabled), whatever its filters. */
  onlyEndpoint?: string;
}

/**
 * A delivery worker in this process that takes a message's fresh deliveries from the commit that wrote them, already
 * leased to it, instead of claiming them from the queue afterwards: per delivery that is one claim (a read and a
 * write of the row) less, and no wake-up for the other nodes' workers.
 */
export interface DeliveryHandoff {
  /** Room for `count` more deliveries to send now: the lease to write them under; null when there is none (queued). */
  reserve(count: number): DeliveryLease | null;
  /** The deliveries committed under a reserve(`count`) lease, none if nothing was written: the room is freed. */
  adopt(deliveries: ClaimedDelivery[], count: number): void;
}

/** Sends that find the configuration changed under them are read again this many times before giving up. */
const MAX_READS = 5;

/** Event types and channels are two filters, both to pass; an endpoint without a list of either takes every value. */
export function endpointWants(endpoint: FanoutEndpoint, eventType: string, channels: readonly string[] | null): boolean {
  if (endpoint.eventTypes !== null && !endpoint.eventTypes.includes(eventType)) return false;
  return endpoint.channels === null || (channels !== null && channels.some((channel) => endpoint.channels!.includes(channel)));
}

/**
 * Accepting a message: validate the payload, find the subscribed endpoints, then commit the message and one delivery
 * per endpoint in one transaction (the outbox) before the caller answers 202. Concurrent sends share a transaction.
 */
export class MessageService {
  private readonly batcher: GroupCommit<NewMessage, InsertMessageResult>;
  private handoff: DeliveryHandoff | null = null;

  constructor(
    private readonly store: Store,
    private readonly schemas: EventSchemas,
    private readonly signal: WorkSignal,
    private readonly metrics: Metrics,
  ) {
    this.batcher = new GroupCommit((items) => store.insertMessages(items), 128, 0, writeConcurrency(store.dialect));
  }

  async send(app: App, input: SendMessageInput, options: SendOptions = {}): Promise<Message> {
    const now = options.now ?? Date.now();
    for (let read = 1; ; read++) {
      const result = await this.sendOnce(app, input, now, options.onlyEndpoint);
      if (result !== 'stale') return result;
      if (read >= MAX_READS) throw new HookyardError('unavailable', 'the configuration kept changing while the message was being accepted: send it again');
      app = await (options.refresh ?? (() => this.reloadApp(app.id)))();
    }
  }

  private async sendOnce(app: App, input: SendMessageInput, now: number, onlyEndpoint: string | undefined): Promise<Message | 'stale'> {
    // The counter first: what is read after it is at least that new (see ConfigCache).
    const configVersion = await this.store.configVersion();
    // Two independent reads, side by side: on PostgreSQL without a cache each is a round trip.
    const [eventType, endpoints] = await Promise.all([this.store.getEventType(input.eventType), this.store.fanoutEndpoints(app.id)]);
    if (eventType) this.schemas.validate(eventType, input.payload);
    const channels = input.channels !== undefined && input.channels.length > 0 ? input.channels : null;
    const template = eventType?.resourceUrlTemplate ?? null;
    const message: Message = {
      id: newId('msg', now),
      appId: app.id,
      eventType: input.eventType,
      eventId: input.eventId ?? null,
      payload: JSON.stringify(input.payload),
      channels,
      resourceUrl: input.resourceUrl ?? (template === null ? null : renderResourceUrl(template, input.payload)),
      createdAt: now,
    };
    const wanted = onlyEndpoint === undefined
      ? endpoints.filter((endpoint) => endpointWants(endpoint, input.eventType, channels))
      : endpoints.filter((endpoint) => endpoint.id === onlyEndpoint);
    if (onlyEndpoint !== undefined && wanted.length === 0) throw new HookyardError('conflict', 'the endpoint is disabled: enable it before sending it a test event');
    const endpointIds = wanted.map((endpoint) => endpoint.id);
    const fifoEndpointIds = wanted.filter((endpoint) => endpoint.fifo).map((endpoint) => endpoint.id);
    // FIFO deliveries queue behind their endpoint's unfinished one: those are never handed over.
    const leasable = endpointIds.length - fifoEndpointIds.length;
    const lease = leasable > 0 ? this.handoff?.reserve(leasable) ?? null : null;
    let result: InsertMessageResult;
    let leased: ClaimedDelivery[] = [];
    try {
      result = await this.batcher.submit({ message, endpointIds, fifoEndpointIds, configVersion, lease });
      if (result.ok) leased = result.leased;
    } finally {
      // A failed commit adopts nothing; should it have committed after all, the lease runs out and any worker claims.
      if (lease) this.handoff!.adopt(leased, leasable);
    }
    if (!result.ok) {
      if ('stale' in result) return 'stale';
      throw new HookyardError('conflict', `a message with eventId "${input.eventId}" already exists in this app`, { id: result.existingId });
    }
    this.metrics.messagesAccepted.inc();
    // Deliveries left in the queue wake the workers; handed-over ones are this process's worker's already.
    if (endpointIds.length > leased.length) this.signal.notify();
    return result.message;
  }

  /** From now on, fresh deliveries go straight to `handoff` while it has room (see DeliveryHandoff). */
  handOffTo(handoff: DeliveryHandoff): void {
    this.handoff = handoff;
  }

  private async reloadApp(id: string): Promise<App> {
    const app = await this.store.getApp(id);
    if (!app) throw notFound('app');
    return app;
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }
}
