import type { Logger } from 'pino';
import { ClaimLoop, type FillResult } from '../claim-loop.js';
import { runKeyOf } from '../domain/workflows.js';
import type { Metrics } from '../metrics.js';
import type { ClaimedJob, Store } from '../store/store.js';
import type { WorkSignal } from '../work-signal.js';
import type { RequestProcessor } from './processing.js';

export interface ProcessingWorkerOptions {
  owner: string;
  concurrency: number;
  handlerTimeoutMs: number;
  requestRetentionMs: number;
  maxRequestsPerSource: number;
  idlePollMs?: number;
}

// A job whose worker died this many times is recorded as failed instead of being run again (a handler that kills
// the process must not take every worker down in turn).
const MAX_CLAIMS = 3;
const PURGE_EVERY_MS = 10 * 60_000;

/**
 * Runs inbound processing jobs from the store's queue: claim (a lease), process, record. A crash after the ack loses
 * nothing: the job's lease runs out and any worker takes it again.
 */
export class ProcessingWorker {
  private running = 0;
  private stopping = false;
  private readonly loop: ClaimLoop;
  private purger: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly processor: RequestProcessor,
    private readonly signal: WorkSignal,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: ProcessingWorkerOptions,
  ) {
    this.loop = new ClaimLoop({
      fill: () => this.fill(),
      nextDueAt: () => store.nextJobDueAt(),
      idlePollMs: options.idlePollMs ?? 500,
      logger,
      name: 'processing worker',
    });
  }

  start(): void {
    this.unsubscribe = this.signal.subscribe(() => this.loop.kick());
    this.purger = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.purger.unref();
    this.loop.kick();
  }

  /** Stops claiming and waits for the jobs in flight (their handlers are bounded by the handler timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.loop.stop();
    clearInterval(this.purger);
    await Promise.allSettled([...this.inFlight]);
  }

  /** Deletes requests past the retention period or beyond the per-source maximum. */
  async purge(now = Date.now()): Promise<number> {
    try {
      return await this.store.purgeRequests({ before: now - this.options.requestRetentionMs, maxPerSource: this.options.maxRequestsPerSource });
    } catch (err) {
      this.logger.error({ err }, 'request purge failed');
      return 0;
    }
  }

  private async fill(): Promise<FillResult> {
    while (!this.stopping && this.running < this.options.concurrency) {
      const now = Date.now();
      const limit = this.options.concurrency - this.running;
      // Twice the handler timeout: a handler is cut off at its timeout, so a lease still held after twice that
      // time belongs to a process that died, and the job is due again.
      const jobs = await this.store.claimJobs({ now, limit, leaseUntil: now + 2 * this.options.handlerTimeoutMs, owner: this.options.owner });
      for (const job of jobs) this.run(job);
      if (jobs.length < limit) return 'drained';
    }
    return this.running === 0 ? 'stalled' : 'full';
  }

  private run(job: ClaimedJob): void {
    this.running++;
    const work = this.process(job)
      .catch((err: unknown) => this.logger.error({ err, requestId: job.request.id }, 'processing failed unexpectedly; retried when the lease ends'))
      .finally(() => {
        this.running--;
        this.inFlight.delete(work);
        this.loop.kick();
      });
    this.inFlight.add(work);
  }

  private async process({ request, attempts, queuedAt }: ClaimedJob): Promise<void> {
    const source = await this.store.getSource(request.sourceId);
    if (!source) return; // deleted with its requests
    const result = attempts >= MAX_CLAIMS
      ? { status: 'failed' as const, output: null, error: `processing was interrupted ${attempts} times (the process stopped while running it)`, durationMs: null, finishedAt: Date.now() }
      : await this.processor.process(request, source);
    // Before the run is recorded: a crash in between runs it again, and finds the executions started.
    await this.processor.startWorkflows(request, runKeyOf(request.id, queuedAt));
    this.metrics.processingRuns.inc({ status: result.status });
    await this.store.finishJob(request.id, result, this.options.owner);
  }
}
