import type { Logger } from 'pino';
import { newId } from '../ids.js';
import { GroupCommit, writeConcurrency } from '../store/group-commit.js';
import type { Execution, ExecutionJob, ExecutionStep, ExecutionWrite, InboundRecord, Store, WorkflowDefinition, WorkflowNode, WorkflowResponse } from '../store/store.js';
import { contextOf } from './context.js';
import { MAX_CODE_TIMEOUT_MS, MAX_HTTP_TIMEOUT_MS } from './definition.js';
import { nodeKind, NodeError, type NodeDeps, type NodeResult } from './nodes.js';
import { render, type Scope } from './template.js';

export interface RunnerOptions {
  /** Names this process in the leases it takes. */
  owner: string;
  /** How long past a node's own time limit its lease lasts: a lease still held after that belongs to a dead process. */
  leaseMs: number;
  env: Readonly<Record<string, string>>;
}

/** Where a run stopped: finished, asleep in a delay, or given up because another process holds it now. */
export interface RunOutcome {
  status: Execution['status'] | 'lost';
  /** The respond node's answer, else the workflow's `response` rendered at the end; null when neither exists. */
  response: WorkflowResponse | null;
  error: string | null;
}

export interface RunHooks {
  /** Called once, when a respond node has decided the answer (a sync-mode sender need not wait for the rest). */
  onResponse?(response: WorkflowResponse): void;
}

const DEFINITIONS_CACHED = 500;
/** Nodes that wait on something outside (the network, an SMTP server, a code thread). */
const SLOW_NODES = new Set(['http-request', 'notify', 'code']);

/**
 * Runs an execution node by node from where it stands, each node's start and end committed (a job row) before the
 * next begins, so a run taken over after a crash resumes at the node that had not finished; that node runs again
 * (its effects are at least once). A failed node stops the run there; a retry starts at it.
 */
export class ExecutionRunner {
  // Versions that executions ran never change (an edit makes the next version), so they are cached by id@version.
  private readonly definitions = new Map<string, WorkflowDefinition>();

  // Node starts and steps of concurrent runs share transactions (one commit for many), as requests do.
  private readonly writes: GroupCommit<ExecutionWrite, boolean>;

  constructor(
    private readonly store: Store,
    private readonly deps: NodeDeps,
    private readonly logger: Logger,
    private readonly options: RunnerOptions,
  ) {
    this.writes = new GroupCommit((items) => store.writeExecutions(items), 256, 0, writeConcurrency(store.dialect));
  }

  private begin(job: ExecutionJob, leaseUntil: number): Promise<boolean> {
    return this.writes.submit({ kind: 'begin', job, owner: this.options.owner, leaseUntil });
  }

  private stepOf(executionId: string, step: ExecutionStep): Promise<boolean> {
    return this.writes.submit({ kind: 'step', executionId, step, owner: this.options.owner });
  }

  /** Runs a claimed execution (this process holds its lease). `request` saves a read when the caller has it. */
  async run(execution: Execution, hooks: RunHooks = {}, request?: InboundRecord): Promise<RunOutcome> {
    const definition = await this.definition(execution);
    const record = request ?? (await this.store.findRequest(execution.requestId));
    if (!definition || !record) {
      const error = !definition ? `version ${execution.version} of the workflow is gone` : 'the request that started it is gone';
      await this.finishWithoutJob(execution, error);
      return { status: 'failed', response: null, error };
    }
    const source = await this.store.getSource(record.sourceId);
    const jobs = await this.store.listExecutionJobs(execution.id);
    const outputs: Record<string, unknown> = {};
    for (const job of jobs) if (job.status === 'succeeded' || job.status === 'waiting') outputs[job.nodeKey] = job.output;
    const scope: Scope = { $context: contextOf(record, source?.name ?? null), $jobsMapByNodeKey: outputs, $env: { ...this.options.env } };
    const nodes = new Map(definition.nodes.map((node) => [node.key, node]));

    let response = execution.response;
    const respond = (decided: WorkflowResponse) => {
      response = decided;
      hooks.onResponse?.(decided);
    };
    const outcome = (status: RunOutcome['status'], error: string | null): RunOutcome => ({
      status,
      response: response ?? (definition.response ? renderResponse(definition.response, scope) : null),
      error,
    });

    // A job a dead process left running is closed as interrupted; its node runs again below.
    for (const job of jobs.filter((item) => item.status === 'running')) {
      const step = this.step(job.id, 'failed', null, 'interrupted: the process running this node stopped; the node ran again', job.startedAt, {
        status: 'running', currentNode: execution.currentNode, response, error: null, nextRunAt: this.deps.now() + this.options.leaseMs, finishedAt: null,
      });
      if (!(await this.stepOf(execution.id, step))) return outcome('lost', null);
    }

    let current = execution.currentNode;
    // Woken from a delay: the delay's job ends now and the run goes on after it.
    const sleeping = execution.status === 'waiting' ? jobs.findLast((job) => job.status === 'waiting') : undefined;
    if (sleeping && current === sleeping.nodeKey) {
      const next = nodes.get(current)?.next ?? null;
      const step = this.step(sleeping.id, 'succeeded', sleeping.output, null, sleeping.startedAt, this.movingTo(next, response, null));
      if (!(await this.stepOf(execution.id, step))) return outcome('lost', null);
      current = next;
    }

    while (current !== null) {
      const node = nodes.get(current);
      if (!node) {
        const error = `node "${current}" is not in version ${execution.version}`;
        await this.finishWithoutJob(execution, error);
        return outcome('failed', error);
      }
      const kind = nodeKind(node.type);
      const started = this.deps.now();
      const job: ExecutionJob = {
        id: newId('job', started), executionId: execution.id, nodeKey: node.key, type: node.type, status: 'running',
        input: null, output: null, error: null, startedAt: started, durationMs: null,
      };
      let result: NodeResult | NodeError | undefined;
      try {
        job.input = kind.input(node.config ?? {}, scope);
      } catch (err) {
        job.input = null;
        result = new NodeError((err as Error).message);
      }
      // A node that waits on the network (or runs code) commits its start first: it shows as running, it extends the
      // lease to its own time limit, and a crash inside it leaves an "interrupted" job. A quick one commits once, at
      // its end (a crash before that runs it again all the same: the execution still points at it).
      const begun = SLOW_NODES.has(node.type) || this.leaseFor(node) > this.options.leaseMs;
      if (begun && !(await this.begin(job, started + this.leaseFor(node)))) return outcome('lost', null);
      const record = (step: ExecutionStep) =>
        this.stepOf(execution.id, begun ? step : { ...step, started: job });
      try {
        result ??= await kind.run(job.input as Record<string, unknown>, scope, this.deps, node);
      } catch (err) {
        result = err instanceof NodeError ? err : new NodeError((err as Error).message);
      }

      if (result instanceof NodeError) {
        const error = `node "${node.key}" (${node.type}): ${result.message}`;
        const step = this.step(job.id, 'failed', result.output, result.message, started, {
          status: 'failed', currentNode: node.key, response, error, nextRunAt: null, finishedAt: this.deps.now(),
        });
        if (!(await record(step))) return outcome('lost', null);
        this.logger.debug({ executionId: execution.id, node: node.key, error: result.message }, 'workflow node failed');
        return outcome('failed', error);
      }

      outputs[node.key] = result.output;
      if (result.response) respond(result.response);
      if (result.waitUntil !== undefined) {
        const step = this.step(job.id, 'waiting', result.output, null, started, {
          status: 'waiting', currentNode: node.key, response, error: null, nextRunAt: result.waitUntil, finishedAt: null,
        });
        if (!(await record(step))) return outcome('lost', null);
        return outcome('waiting', null);
      }
      if (result.end) {
        const { status, error } = result.end;
        const step = this.step(job.id, 'succeeded', result.output, null, started, {
          status, currentNode: null, response, error, nextRunAt: null, finishedAt: this.deps.now(),
        });
        if (!(await record(step))) return outcome('lost', null);
        return outcome(status, error);
      }
      const next = result.next !== undefined ? result.next : node.next ?? null;
      const step = this.step(job.id, 'succeeded', result.output, null, started, this.movingTo(next, response, null));
      if (!(await record(step))) return outcome('lost', null);
      current = next;
    }
    return outcome('succeeded', null);
  }

  /** The definition an execution runs: the version it started on. */
  private async definition(execution: Execution): Promise<WorkflowDefinition | null> {
    const key = `${execution.workflowId}@${execution.version}`;
    const cached = this.definitions.get(key);
    if (cached) return cached;
    const version = await this.store.getWorkflowVersion(execution.workflowId, execution.version);
    if (!version) return null;
    if (this.definitions.size >= DEFINITIONS_CACHED) this.definitions.clear();
    this.definitions.set(key, version.definition);
    return version.definition;
  }

  /** A node's lease: its own time limit (an http-request's every attempt) plus the margin. */
  private leaseFor(node: WorkflowNode): number {
    const config = node.config ?? {};
    const number = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);
    if (node.type === 'http-request') {
      const retry = (config.retry ?? {}) as Record<string, unknown>;
      const attempts = 1 + number(retry.attempts, 0);
      return attempts * number(config.timeoutMs, MAX_HTTP_TIMEOUT_MS) + (attempts - 1) * number(retry.delayMs, 1_000) + this.options.leaseMs;
    }
    if (node.type === 'code') return number(config.timeoutMs, MAX_CODE_TIMEOUT_MS) + this.options.leaseMs;
    return this.options.leaseMs;
  }

  private movingTo(next: string | null, response: WorkflowResponse | null, error: string | null): ExecutionStep['execution'] {
    const now = this.deps.now();
    return next === null
      ? { status: 'succeeded', currentNode: null, response, error, nextRunAt: null, finishedAt: now }
      : { status: 'running', currentNode: next, response, error, nextRunAt: now + this.options.leaseMs, finishedAt: null };
  }

  private step(jobId: string, status: ExecutionJob['status'], output: unknown, error: string | null, started: number, execution: ExecutionStep['execution']): ExecutionStep {
    const now = this.deps.now();
    return { job: { id: jobId, status, output, error, durationMs: now - started }, execution, now };
  }

  /** Ends a run that cannot go on (its definition or request was deleted) without a node to blame. */
  private async finishWithoutJob(execution: Execution, error: string): Promise<void> {
    const now = this.deps.now();
    const job: ExecutionJob = {
      id: newId('job', now), executionId: execution.id, nodeKey: execution.currentNode ?? '-', type: 'end', status: 'running',
      input: null, output: null, error: null, startedAt: now, durationMs: null,
    };
    if (!(await this.begin(job, now + this.options.leaseMs))) return;
    await this.stepOf(execution.id, this.step(job.id, 'failed', null, error, now, {
      status: 'failed', currentNode: null, response: execution.response, error, nextRunAt: null, finishedAt: now,
    }));
  }
}

/** The workflow's own `response`, its templates rendered over the run's variables. */
function renderResponse(response: WorkflowResponse, scope: Scope): WorkflowResponse {
  const out = render(response, scope) as WorkflowResponse;
  const status = Number(out.status);
  return { ...out, status: Number.isInteger(status) && status >= 200 && status <= 599 ? status : 200 };
}
