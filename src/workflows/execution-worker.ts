import type { Logger } from 'pino';
import { ClaimLoop, type FillResult } from '../claim-loop.js';
import type { Execution, Store } from '../store/store.js';
import type { WorkSignal } from '../work-signal.js';
import type { ExecutionRunner } from './runner.js';

export interface ExecutionWorkerOptions {
  owner: string;
  concurrency: number;
  /** The lease a claim takes before the first node extends it (see RunnerOptions.leaseMs). */
  leaseMs: number;
  idlePollMs?: number;
}

/**
 * Runs workflow executions from the store's queue: new ones, ones whose delay is over, ones a dead process held (their
 * lease ran out) and ones an operator retried. Claim, run from the current node, and the runner commits each step.
 */
export class ExecutionWorker {
  private running = 0;
  private stopping = false;
  private readonly loop: ClaimLoop;
  private unsubscribe: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly runner: ExecutionRunner,
    private readonly signal: WorkSignal,
    private readonly logger: Logger,
    private readonly options: ExecutionWorkerOptions,
  ) {
    this.loop = new ClaimLoop({
      fill: () => this.fill(),
      nextDueAt: () => store.nextExecutionDueAt(),
      idlePollMs: options.idlePollMs ?? 500,
      logger,
      name: 'workflow worker',
    });
  }

  start(): void {
    this.unsubscribe = this.signal.subscribe(() => this.loop.kick());
    this.loop.kick();
  }

  /** Stops claiming and waits for the runs in flight (a delay does not hold one: it is stored and released). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.loop.stop();
    await Promise.allSettled([...this.inFlight]);
  }

  private async fill(): Promise<FillResult> {
    while (!this.stopping && this.running < this.options.concurrency) {
      const now = Date.now();
      const limit = this.options.concurrency - this.running;
      const executions = await this.store.claimExecutions({ now, limit, leaseUntil: now + this.options.leaseMs, owner: this.options.owner });
      for (const execution of executions) this.run(execution);
      if (executions.length < limit) return 'drained';
    }
    return this.running === 0 ? 'stalled' : 'full';
  }

  private run(execution: Execution): void {
    this.running++;
    const work = this.runner.run(execution)
      .then(() => undefined)
      .catch((err: unknown) => this.logger.error({ err, executionId: execution.id }, 'workflow run failed unexpectedly; resumed when its lease ends'))
      .finally(() => {
        this.running--;
        this.inFlight.delete(work);
        this.loop.kick();
      });
    this.inFlight.add(work);
  }
}
