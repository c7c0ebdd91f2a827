import type { Logger } from 'pino';

/**
 * What one round of claiming found: the queue ran dry, every slot is taken, or nothing is in flight to call again;
 * `idle`: it did not look, nothing being known to be due, and leaves the next look to the poll timer.
 */
export type FillResult = 'drained' | 'full' | 'stalled' | 'idle';

export interface ClaimLoopOptions {
  /** Claims due work and starts it while there is room. */
  fill(): Promise<FillResult>;
  /** When the next piece of work becomes due (or a lease runs out), or null when the queue is empty. */
  nextDueAt(): Promise<number | null>;
  /** Longest wait between two looks at the queue when nothing signalled new work. */
  idlePollMs: number;
  /** Called when that wait is over, before the round it starts: work may have become due meanwhile. */
  onPoll?(): void;
  logger: Logger;
  /** For log lines: "delivery worker", "processing worker". */
  name: string;
}

// After a round that claimed less than it asked for, the next look waits at least this long: due work left unclaimed
// belongs to throttled endpoints, and looking again at once would be a busy loop.
const DRAINED_MIN_DELAY_MS = 25;

/**
 * The claim loop shared by the workers: one round at a time (a kick during a round asks for one more), woken by new
 * work, by finished work, or by a timer set to the next due time when the queue ran dry.
 */
export class ClaimLoop {
  private running = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** A timer is set and has not fired yet. */
  private polling = false;

  constructor(private readonly options: ClaimLoopOptions) {}

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.round();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async round(): Promise<void> {
    this.running = true;
    let result: FillResult = 'full';
    try {
      do {
        this.again = false;
        result = await this.options.fill();
      } while (this.again && !this.stopped);
    } catch (err) {
      this.options.logger.error({ err }, `${this.options.name} could not claim work`);
      result = 'drained';
    } finally {
      this.running = false;
    }
    // While work is in flight, its completions kick again; a timer is needed only when nothing else will. A round that
    // did not look needs one too, but keeps one already set: setting it again on every kick would put it off forever.
    if (result === 'idle') {
      if (!this.polling) await this.schedule(DRAINED_MIN_DELAY_MS);
    } else if (result !== 'full') await this.schedule(result === 'drained' ? DRAINED_MIN_DELAY_MS : 0);
  }

  private async schedule(minDelayMs: number): Promise<void> {
    clearTimeout(this.timer);
    if (this.stopped) return;
    let delay = this.options.idlePollMs;
    try {
      const due = await this.options.nextDueAt();
      if (due !== null) delay = Math.min(delay, Math.max(due - Date.now(), minDelayMs));
    } catch (err) {
      this.options.logger.error({ err }, `${this.options.name} could not read the queue`);
    }
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.polling = true;
    this.timer = setTimeout(() => {
      this.polling = false;
      this.options.onPoll?.();
      this.kick();
    }, delay);
  }
}
