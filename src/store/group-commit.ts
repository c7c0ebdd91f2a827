/**
 * Collects items submitted in the same turn of the event loop (up to `maxBatch`) and hands them to `flush` together,
 * so that many concurrent writers share one transaction (and one fsync). Each submitter gets its own result.
 */
export class GroupCommit<In, Out> {
  private pending: Array<{ item: In; resolve: (out: Out) => void; reject: (err: unknown) => void }> = [];
  private scheduled = false;
  private running: Promise<void> = Promise.resolve();

  /**
   * `windowMs` = 0 flushes at the end of the current turn of the event loop; a few ms gathers larger batches from
   * writers that finish at slightly different times (attempt outcomes), at that cost in latency.
   */
  constructor(
    private readonly flush: (items: In[]) => Promise<Out[]>,
    private readonly maxBatch = 256,
    private readonly windowMs = 0,
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
    await this.running;
  }

  private kick(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    // Batches run one after another so that their transactions commit in submission order.
    this.running = this.running.then(async () => {
      try {
        const results = await this.flush(batch.map((entry) => entry.item));
        batch.forEach((entry, index) => entry.resolve(results[index]!));
      } catch (err) {
        for (const entry of batch) entry.reject(err);
      }
    });
  }
}
