/**
 * How many batches of acknowledging writes to keep in flight on a database: SQLite has one writer, so one; on
 * PostgreSQL each batch is a few network round trips during which the next can be written. Their commits may then land
 * out of id order, which nothing claiming by due time minds and live streams allow for (api/sources.ts looks back).
 */
export function writeConcurrency(dialect: 'sqlite' | 'postgres'): number {
  return dialect === 'postgres' ? 4 : 1;
}

/**
 * Collects items submitted in the same turn of the event loop (up to `maxBatch`) and hands them to `flush` together,
 * so that many concurrent writers share one transaction (and one fsync). Each submitter gets its own result.
 */
export class GroupCommit<In, Out> {
  private pending: Array<{ item: In; resolve: (out: Out) => void; reject: (err: unknown) => void }> = [];
  private scheduled = false;
  private inFlight = 0;
  private idle: Array<() => void> = [];

  /**
   * `windowMs` = 0 flushes at the end of the current turn of the event loop; a few ms gathers larger batches from
   * writers that finish at slightly different times (attempt outcomes), at that cost in latency.
   * `concurrency` = 1 runs batches one after another, so that their transactions commit in submission order (SQLite
   * has one writer anyway). A server database gains from several in flight: each batch is a few network round trips
   * during which the next one can be written (PostgreSQL).
   */
  constructor(
    private readonly flush: (items: In[]) => Promise<Out[]>,
    private readonly maxBatch = 256,
    private readonly windowMs = 0,
    private readonly concurrency = 1,
  ) {}

  submit(item: In): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.kick();
      else if (!this.scheduled) {
        this.scheduled = true;
        if (this.windowMs > 0) setTimeout(() => this.kick(), this.windowMs);
        else setImmediate(() => this.kick());
      }
    });
  }

  /** Resolves once everything submitted so far is flushed. */
  async drain(): Promise<void> {
    this.kick();
    while (this.inFlight > 0 || this.pending.length > 0) {
      await new Promise<void>((resolve) => this.idle.push(resolve));
      this.kick();
    }
  }

  private kick(): void {
    this.scheduled = false;
    // With every slot busy, items wait and the next free slot takes them as one larger batch.
    while (this.pending.length > 0 && this.inFlight < this.concurrency) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.inFlight++;
      void this.run(batch);
    }
  }

  private async run(batch: typeof this.pending): Promise<void> {
    try {
      const results = await this.flush(batch.map((entry) => entry.item));
      batch.forEach((entry, index) => entry.resolve(results[index]!));
    } catch (err) {
      for (const entry of batch) entry.reject(err);
    } finally {
      this.inFlight--;
      this.kick();
      if (this.inFlight === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }
}
