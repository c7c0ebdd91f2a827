import { HookyardError } from '../errors.js';
import { hasPrefix, newId } from '../ids.js';
import type { Execution, InboundRecord, NewExecution, Store, Workflow, WorkflowDefinition, WorkflowNode, WorkflowResponse } from '../store/store.js';
import { validateDefinition } from '../workflows/definition.js';

export interface WorkflowInput {
  key?: string;
  name?: string;
  enabled?: boolean;
  trigger?: { type: 'webhook'; source: string };
  mode?: 'async' | 'sync';
  response?: WorkflowResponse | null;
  nodes?: WorkflowNode[];
}

/** Executions a request started; `sync` is the one whose answer the sender waits for (claimed by the caller). */
export interface StartedExecutions {
  executions: Execution[];
  sync: Execution | null;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const CACHE_MS = 1_000;

const invalid = (path: string, message: string): HookyardError =>
  new HookyardError('validation_error', `${path}: ${message}`, [{ path: `/body/${path}`, message }]);

/**
 * Workflow rules: a definition is validated whole on every save (create, or a patch merged into the current one), its
 * trigger's source must exist, and a request's executions start from a per-source list cached for a second (another
 * node's change shows within that time; this node's own at once).
 */
export class WorkflowService {
  private readonly bySource = new Map<string, { workflows: Workflow[]; at: number }>();

  constructor(private readonly store: Store) {}

  async create(input: WorkflowInput, now = Date.now()): Promise<Workflow> {
    if (input.key === undefined) throw invalid('key', 'is required');
    if (input.trigger === undefined) throw invalid('trigger', 'is required: {type: "webhook", source: "<source name>"}');
    if (input.nodes === undefined) throw invalid('nodes', 'is required');
    this.checkKey(input.key);
    const sourceId = await this.sourceIdOf(input.trigger);
    const definition = validateDefinition({
      mode: input.mode ?? 'async',
      trigger: { type: 'webhook', source: input.trigger.source },
      response: input.response ?? null,
      nodes: input.nodes,
    });
    const workflow = await this.store.createWorkflow({
      id: newId('wf', now), key: input.key, name: input.name ?? input.key, enabled: input.enabled ?? true, sourceId,
      version: 1, definition, createdAt: now, updatedAt: now,
    });
    this.bySource.delete(sourceId);
    return workflow;
  }

  async update(workflow: Workflow, input: WorkflowInput, now = Date.now()): Promise<Workflow | null> {
    if (input.key !== undefined) this.checkKey(input.key);
    const sourceId = input.trigger === undefined ? workflow.sourceId : await this.sourceIdOf(input.trigger);
    const changesDefinition = input.trigger !== undefined || input.mode !== undefined || input.response !== undefined || input.nodes !== undefined;
    let definition: WorkflowDefinition | undefined;
    if (changesDefinition) {
      const current = workflow.definition;
      definition = validateDefinition({
        mode: input.mode ?? current.mode,
        trigger: input.trigger ? { type: 'webhook', source: input.trigger.source } : current.trigger,
        response: input.response === undefined ? current.response : input.response,
        nodes: input.nodes ?? current.nodes,
      });
    }
    const updated = await this.store.updateWorkflow(workflow.id, {
      ...(input.key === undefined ? {} : { key: input.key }),
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.enabled === undefined ? {} : { enabled: input.enabled }),
      ...(sourceId === workflow.sourceId ? {} : { sourceId }),
      ...(definition === undefined ? {} : { definition }),
    }, now);
    this.bySource.delete(workflow.sourceId);
    this.bySource.delete(sourceId);
    return updated;
  }

  async delete(workflow: Workflow): Promise<boolean> {
    this.bySource.delete(workflow.sourceId);
    return this.store.deleteWorkflow(workflow.id);
  }

  /** The enabled workflows a source's requests start. */
  async forSource(sourceId: string, now = Date.now()): Promise<Workflow[]> {
    const cached = this.bySource.get(sourceId);
    if (cached && now - cached.at < CACHE_MS) return cached.workflows;
    const workflows = await this.store.sourceWorkflows(sourceId);
    if (this.bySource.size > 10_000) this.bySource.clear();
    this.bySource.set(sourceId, { workflows, at: now });
    return workflows;
  }

  /**
   * Starts a request's executions for one processing run (`runKey`): a run repeated after a crash finds them started.
   * With `syncOwner`, the first sync-mode workflow's execution starts claimed by that owner for `leaseMs`: the caller
   * runs it inline and answers with it; the rest are queued for the workers.
   */
  async start(record: InboundRecord, runKey: string, opts: { syncOwner?: string; leaseMs: number; now?: number }): Promise<StartedExecutions> {
    const now = opts.now ?? Date.now();
    const workflows = await this.forSource(record.sourceId, now);
    if (workflows.length === 0) return { executions: [], sync: null };
    const syncWorkflow = opts.syncOwner === undefined ? undefined : workflows.find((workflow) => workflow.definition.mode === 'sync');
    const items = plan(workflows, record, runKey, now, syncWorkflow === undefined ? undefined : { workflow: syncWorkflow, owner: opts.syncOwner!, leaseMs: opts.leaseMs });
    const executions = await this.store.startExecutions(items);
    const sync = syncWorkflow === undefined ? null : executions.find((execution) => execution.workflowId === syncWorkflow.id) ?? null;
    // Started before (a repeated run): someone else may hold it, so it is not run inline.
    const minted = new Set(items.map((item) => item.execution.id));
    return { executions, sync: sync !== null && minted.has(sync.id) ? sync : null };
  }

  /**
   * The queued executions an accepted request starts, for the receiver to commit with the request itself (an async
   * request then needs no processing job to start them). None when the source has no workflow.
   */
  async planFor(record: InboundRecord, now = Date.now()): Promise<NewExecution[]> {
    const workflows = await this.forSource(record.sourceId, now);
    return workflows.length === 0 ? [] : plan(workflows, record, runKeyOf(record.id, record.receivedAt), now);
  }

  /** Whether requests to this source have a sync-mode workflow to answer them. */
  async hasSync(sourceId: string, now = Date.now()): Promise<boolean> {
    return (await this.forSource(sourceId, now)).some((workflow) => workflow.definition.mode === 'sync');
  }

  private checkKey(key: string): void {
    if (!KEY.test(key)) throw invalid('key', "use 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit");
    if (hasPrefix(key, 'wf')) throw invalid('key', 'may not start with "wf_" (ids do)');
  }

  private async sourceIdOf(trigger: { type: string; source: string }): Promise<string> {
    if (trigger.type !== 'webhook') throw invalid('trigger/type', 'the only trigger is "webhook"');
    const source = await this.store.getSource(trigger.source);
    if (!source) throw invalid('trigger/source', `no source named "${trigger.source}"`);
    return source.id;
  }
}

/** One execution per workflow, at its first node; the sync one (if any) claimed by its owner, the rest queued now. */
function plan(workflows: Workflow[], record: InboundRecord, runKey: string, now: number, sync?: { workflow: Workflow; owner: string; leaseMs: number }): NewExecution[] {
  return workflows.map((workflow) => {
    const inline = workflow === sync?.workflow;
    return {
      triggerKey: runKey,
      ...(inline ? { leaseOwner: sync.owner } : {}),
      execution: {
        id: newId('wfex', now), workflowId: workflow.id, version: workflow.version, requestId: record.id, status: 'running',
        currentNode: workflow.definition.nodes[0]!.key, response: null, error: null,
        nextRunAt: inline ? now + sync.leaseMs : now, claims: 0, startedAt: now, finishedAt: null, updatedAt: now,
      },
    };
  });
}

/** Names one processing run of a request: its id and when the run was queued (a replay queues a new one). */
export const runKeyOf = (requestId: string, queuedAt: number): string => `${requestId}@${queuedAt}`;
