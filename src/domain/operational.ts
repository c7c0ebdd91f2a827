import type { Logger } from 'pino';
import { newEndpointSecret } from '../crypto/tokens.js';
import { newId } from '../ids.js';
import type { App, Store } from '../store/store.js';
import type { MessageService } from './messages.js';

/** Operational events go to the endpoints of this app (created from HOOKYARD_OPERATIONAL_WEBHOOK_URL, or by an admin). */
export const OPERATIONAL_APP_UID = 'hookyard-operational';

export type OperationalEventType = 'endpoint.disabled' | 'message.attempt.exhausted' | 'message.attempt.recovered';

/**
 * Sends operational events as ordinary messages of the operational app, so they are signed, retried and logged like
 * any other. Failures of the operational app's own deliveries raise no events (that would loop).
 */
export class OperationalEvents {
  private app: App | null | undefined;
  private checkedAt = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly messages: MessageService,
    private readonly logger: Logger,
  ) {}

  /** Creates the operational app and an endpoint for `url` when they do not exist yet. */
  async configure(url: string | undefined, now = Date.now()): Promise<void> {
    if (url === undefined) return;
    let app = await this.store.getApp(OPERATIONAL_APP_UID);
    if (!app) {
      app = await this.store.createApp({
        id: newId('app', now), uid: OPERATIONAL_APP_UID, name: 'Hookyard operational events', metadata: {}, portal: null, createdAt: now, updatedAt: now,
      });
    }
    const existing = await this.store.listEnabledEndpoints(app.id);
    if (!existing.some((endpoint) => endpoint.url === url)) {
      await this.store.createEndpoint(
        {
          id: newId('ep', now), appId: app.id, url, description: 'HOOKYARD_OPERATIONAL_WEBHOOK_URL', eventTypes: null, channels: null,
          headers: {}, rateLimit: null, timeoutMs: null, disabled: false, disabledReason: null, failingSince: null, flavor: 'standard',
          payloadMode: 'full', ordering: 'parallel', metadata: {}, createdAt: now, updatedAt: now,
        },
        newEndpointSecret(),
      );
    }
    this.app = app;
    this.checkedAt = now;
  }

  async isOperationalApp(appId: string): Promise<boolean> {
    const app = await this.operationalApp();
    return app?.id === appId;
  }

  /** Queues the event as a message of the operational app. Never rejects: a lost event is logged. */
  emit(type: OperationalEventType, data: Record<string, unknown>, now = Date.now()): Promise<void> {
    const queued = this.queue(type, data, now).finally(() => this.inFlight.delete(queued));
    this.inFlight.add(queued);
    return queued;
  }

  /** Resolves once every event emitted so far is committed (shutdown waits for it before closing the database). */
  async drain(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private async queue(type: OperationalEventType, data: Record<string, unknown>, now: number): Promise<void> {
    try {
      const app = await this.operationalApp(now);
      if (!app || data.appId === app.id) return;
      await this.messages.send(app, { eventType: type, payload: { type, timestamp: new Date(now).toISOString(), data } }, { now });
    } catch (err) {
      this.logger.warn({ err, type }, 'could not queue operational event');
    }
  }

  // Looked up at most every 10 s, so that an admin creating the app through the API is picked up without a restart.
  private async operationalApp(now = Date.now()): Promise<App | null> {
    if (this.app === undefined || now - this.checkedAt > 10_000) {
      this.app = await this.store.getApp(OPERATIONAL_APP_UID);
      this.checkedAt = now;
    }
    return this.app;
  }
}
