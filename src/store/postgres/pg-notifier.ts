import pg from 'pg';
import type { Logger } from 'pino';

const RECONNECT_MS = 1_000;

/**
 * Carries "new work" between nodes with LISTEN/NOTIFY, so that an idle worker on one node starts a delivery committed
 * by another within milliseconds instead of at its next poll. Notifications are hints: losing one (a reconnect) only
 * means the poll finds the work a little later.
 */
export class PgNotifier {
  private client: pg.Client | null = null;
  private readonly handlers = new Map<string, () => void>();
  private readonly pending = new Set<string>();
  private flushing = false;
  private closed = false;
  private reconnect: NodeJS.Timeout | undefined;
  private readonly watchers = new Set<(listening: boolean) => void>();

  constructor(
    private readonly connectionString: string,
    private readonly logger: Logger,
  ) {}

  /** Calls `handler` whenever any node notifies `channel` (this node included). */
  async listen(channel: string, handler: () => void): Promise<void> {
    this.handlers.set(channel, handler);
    if (this.client) await this.client.query(`LISTEN ${channel}`);
    else await this.connect();
  }

  /**
   * Calls `watcher(true)` once the connection listens on every channel, and `watcher(false)` when it is lost: between
   * the two a node may miss notifications (whoever relies on them for more than a hint stops relying meanwhile).
   */
  watch(watcher: (listening: boolean) => void): void {
    this.watchers.add(watcher);
    if (this.client) watcher(true);
  }

  /** Tells every listening node; notifications of the same channel issued while one is in flight are merged. */
  notify(channel: string): void {
    if (this.closed) return;
    this.pending.add(channel);
    if (!this.flushing) void this.flush();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const watcher of this.watchers) watcher(false);
    clearTimeout(this.reconnect);
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.size > 0 && !this.closed) {
        const channels = [...this.pending];
        this.pending.clear();
        const client = this.client ?? (await this.connect());
        if (!client) return;
        for (const channel of channels) await client.query(`NOTIFY ${channel}`);
      }
    } catch (err) {
      this.logger.warn({ err }, 'could not send a work notification; workers will find the work at their next poll');
    } finally {
      this.flushing = false;
    }
  }

  private async connect(): Promise<pg.Client | null> {
    if (this.closed) return null;
    const client = new pg.Client({ connectionString: this.connectionString });
    // Our own NOTIFY comes back to us too; this process already woke its workers when it sent it.
    client.on('notification', (message) => {
      if (message.processId !== (client as unknown as { processID: number }).processID) this.handlers.get(message.channel)?.();
    });
    client.on('error', (err) => {
      this.logger.warn({ err }, 'work notification connection lost; reconnecting');
      if (this.client === client) this.client = null;
      for (const watcher of this.watchers) watcher(false);
      void client.end().catch(() => undefined);
      this.reconnect = setTimeout(() => void this.connect().catch(() => undefined), RECONNECT_MS);
      this.reconnect.unref();
    });
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
    this.client = client;
    for (const watcher of this.watchers) watcher(true);
    return client;
  }
}
