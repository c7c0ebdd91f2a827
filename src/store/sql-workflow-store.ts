import type { SecretBox } from '../crypto/secret-box.js';
import { HookyardError } from '../errors.js';
import { keysetPage } from './keyset.js';
import { one, type SqlExecutor } from './sql.js';
import type {
  Execution, ExecutionFilter, ExecutionJob, ExecutionWrite, NewExecution, Page, PageQuery, Workflow, WorkflowDefinition,
  WorkflowPatch, WorkflowVersion,
} from './store.js';

type Row = Record<string, unknown>;

const jsonText = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
const parsed = (value: unknown): unknown => (value === null || value === undefined ? null : JSON.parse(String(value)));
const numberOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/** The workflow half of the SQL store: workflows and their versions, executions (a leased queue) and their jobs. */
export class SqlWorkflowStore {
  constructor(
    private readonly exec: SqlExecutor,
    private readonly box: SecretBox,
  ) {}

  async createWorkflow(workflow: Workflow): Promise<Workflow> {
    return this.exec.transaction(async (tx) => {
      const rows = await tx.all(
        `INSERT INTO workflows (id, key, name, enabled, source_id, mode, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING id`,
        [workflow.id, workflow.key, workflow.name, workflow.enabled ? 1 : 0, workflow.sourceId, workflow.definition.mode,
          workflow.version, workflow.createdAt, workflow.updatedAt],
      );
      if (rows.length === 0) throw await this.keyConflict(tx, workflow.key);
      await tx.run('INSERT INTO workflow_versions (workflow_id, version, definition, created_at) VALUES ($1, $2, $3, $4)', [
        workflow.id, workflow.version, this.seal(workflow.definition), workflow.createdAt,
      ]);
      return workflow;
    });
  }

  async getWorkflow(idOrKey: string): Promise<Workflow | null> {
    const row =
      (await one<Row>(this.exec, `${WORKFLOW_SELECT} WHERE w.id = $1`, [idOrKey])) ??
      (await one<Row>(this.exec, `${WORKFLOW_SELECT} WHERE w.key = $1`, [idOrKey]));
    return row ? this.toWorkflow(row) : null;
  }

  listWorkflows(filter: { sourceId?: string | undefined }, page: PageQuery): Promise<Page<Workflow>> {
    const bySource = filter.sourceId !== undefined;
    return keysetPage(
      this.exec,
      `${WORKFLOW_SELECT} WHERE w.id > $1${bySource ? ' AND w.source_id = $3' : ''} ORDER BY w.id LIMIT $2`,
      bySource ? [filter.sourceId] : [],
      page,
      (row) => this.toWorkflow(row),
      'asc',
    );
  }

  async sourceWorkflows(sourceId: string): Promise<Workflow[]> {
    const rows = await this.exec.all<Row>(`${WORKFLOW_SELECT} WHERE w.source_id = $1 AND w.enabled = 1 ORDER BY w.id`, [sourceId]);
    return rows.map((row) => this.toWorkflow(row));
  }

  async updateWorkflow(id: string, patch: WorkflowPatch, now: number): Promise<Workflow | null> {
    return this.exec.transaction(async (tx) => {
      const current = await one<Row>(tx, `SELECT * FROM workflows WHERE id = $1${tx.dialect === 'postgres' ? ' FOR UPDATE' : ''}`, [id]);
      if (!current) return null;
      if (patch.key !== undefined && patch.key !== current.key) {
        const clash = await one<Row>(tx, 'SELECT id FROM workflows WHERE key = $1 AND id <> $2', [patch.key, id]);
        if (clash) throw await this.keyConflict(tx, patch.key);
      }
      let version = Number(current.version);
      if (patch.definition !== undefined) {
        // The version an execution ran is kept as it was; a version nothing ran yet is edited in place.
        const ran = await one<Row>(tx, 'SELECT 1 AS ran FROM workflow_executions WHERE workflow_id = $1 AND version = $2 LIMIT 1', [id, version]);
        if (ran) {
          version += 1;
          await tx.run('INSERT INTO workflow_versions (workflow_id, version, definition, created_at) VALUES ($1, $2, $3, $4)', [
            id, version, this.seal(patch.definition), now,
          ]);
        } else {
          await tx.run('UPDATE workflow_versions SET definition = $3, created_at = $4 WHERE workflow_id = $1 AND version = $2', [
            id, version, this.seal(patch.definition), now,
          ]);
        }
      }
      await tx.run(
        `UPDATE workflows SET key = $2, name = $3, enabled = $4, source_id = $5, mode = $6, version = $7, updated_at = $8 WHERE id = $1`,
        [
          id,
          patch.key ?? current.key,
          patch.name ?? current.name,
          patch.enabled === undefined ? current.enabled : patch.enabled ? 1 : 0,
          patch.sourceId ?? current.source_id,
          patch.definition?.mode ?? current.mode,
          version,
          now,
        ],
      );
      const row = await one<Row>(tx, `${WORKFLOW_SELECT} WHERE w.id = $1`, [id]);
      return row ? this.toWorkflow(row) : null;
    });
  }

  async deleteWorkflow(id: string): Promise<boolean> {
    return this.exec.transaction(async (tx) => {
      // Children first: the cascade would otherwise walk the executions and jobs by foreign key.
      await tx.run('DELETE FROM workflow_jobs WHERE execution_id IN (SELECT id FROM workflow_executions WHERE workflow_id = $1)', [id]);
      await tx.run('DELETE FROM workflow_executions WHERE workflow_id = $1', [id]);
      await tx.run('DELETE FROM workflow_versions WHERE workflow_id = $1', [id]);
      return (await tx.run('DELETE FROM workflows WHERE id = $1', [id])) > 0;
    });
  }

  async getWorkflowVersion(workflowId: string, version: number): Promise<WorkflowVersion | null> {
    const row = await one<Row>(this.exec, 'SELECT * FROM workflow_versions WHERE workflow_id = $1 AND version = $2', [workflowId, version]);
    return row ? this.toVersion(row) : null;
  }

  async listWorkflowVersions(workflowId: string): Promise<WorkflowVersion[]> {
    const rows = await this.exec.all<Row>('SELECT * FROM workflow_versions WHERE workflow_id = $1 ORDER BY version', [workflowId]);
    return rows.map((row) => this.toVersion(row));
  }

  // ---- executions

  async startExecutions(items: readonly NewExecution[]): Promise<Execution[]> {
    if (items.length === 0) return [];
    // Not durable: the processing job is recorded done after this, durably, and that commit carries this one to disk
    // (one log on both databases); a power cut before it runs the job again, which finds nothing or starts them anew.
    return this.exec.transaction(async (tx) => {
      const started: Execution[] = [];
      for (const { execution: e, triggerKey, leaseOwner } of items) {
        const inserted = await tx.run(
          `INSERT INTO workflow_executions (id, workflow_id, version, request_id, trigger_key, status, current_node, response, error,
             next_run_at, lease_owner, claims, started_at, finished_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT DO NOTHING`,
          [e.id, e.workflowId, e.version, e.requestId, triggerKey, e.status, e.currentNode, jsonText(e.response ?? undefined), e.error,
            e.nextRunAt, leaseOwner ?? null, leaseOwner === undefined ? 0 : 1, e.startedAt, e.finishedAt, e.updatedAt],
        );
        if (inserted > 0) {
          started.push({ ...e, claims: leaseOwner === undefined ? 0 : 1 });
          continue;
        }
        const existing = await one<Row>(tx, 'SELECT * FROM workflow_executions WHERE workflow_id = $1 AND trigger_key = $2', [e.workflowId, triggerKey]);
        if (existing) started.push(toExecution(existing));
      }
      return started;
    }, { durable: false });
  }

  async claimExecutions(opts: { now: number; limit: number; leaseUntil: number; owner: string }): Promise<Execution[]> {
    // One statement on both databases; PostgreSQL skips rows another node is claiming instead of waiting for them.
    const lock = this.exec.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    // Claims, node starts and steps are not durable commits: losing one in a power cut runs a node again, which the
    // at-least-once contract of nodes allows (as a lost attempt record does for deliveries).
    const rows = await this.exec.transaction((tx) => tx.all<Row>(
      `UPDATE workflow_executions SET next_run_at = $3, lease_owner = $4, claims = claims + 1
       WHERE id IN (
         SELECT id FROM workflow_executions WHERE next_run_at <= $1 AND status IN ('running', 'waiting')
         ORDER BY next_run_at LIMIT $2${lock}
       ) RETURNING *`,
      [opts.now, opts.limit, opts.leaseUntil, opts.owner],
    ), { durable: false });
    return rows.map(toExecution);
  }

  async getExecution(id: string): Promise<Execution | null> {
    const row = await one<Row>(this.exec, 'SELECT * FROM workflow_executions WHERE id = $1', [id]);
    return row ? toExecution(row) : null;
  }

  listExecutions(workflowId: string, filter: ExecutionFilter, page: PageQuery): Promise<Page<Execution>> {
    const params: unknown[] = [workflowId];
    let where = 'workflow_id = $3 AND id < $1';
    if (filter.status !== undefined) where += ` AND status = $${params.push(filter.status) + 2}`;
    if (filter.requestId !== undefined) where += ` AND request_id = $${params.push(filter.requestId) + 2}`;
    return keysetPage(this.exec, `SELECT * FROM workflow_executions WHERE ${where} ORDER BY id DESC LIMIT $2`, params, page, toExecution, 'desc');
  }

  async requestExecutions(requestId: string): Promise<Execution[]> {
    const rows = await this.exec.all<Row>('SELECT * FROM workflow_executions WHERE request_id = $1 ORDER BY id', [requestId]);
    return rows.map(toExecution);
  }

  async listExecutionJobs(executionId: string): Promise<ExecutionJob[]> {
    const rows = await this.exec.all<Row>('SELECT * FROM workflow_jobs WHERE execution_id = $1 ORDER BY id', [executionId]);
    return rows.map(toJob);
  }

  async writeExecutions(writes: readonly ExecutionWrite[]): Promise<boolean[]> {
    // Not durable (see claimExecutions), and grouped by the runner across executions: one commit for many steps.
    return this.exec.transaction(async (tx) => {
      const results: boolean[] = [];
      for (const write of writes) results.push(write.kind === 'begin' ? await begin(tx, write) : await step(tx, write));
      return results;
    }, { durable: false });
  }

  async retryExecution(id: string, now: number): Promise<boolean> {
    const changed = await this.exec.run(
      `UPDATE workflow_executions SET status = 'running', error = NULL, next_run_at = $2, lease_owner = NULL, finished_at = NULL, updated_at = $2
       WHERE id = $1 AND status = 'failed' AND current_node IS NOT NULL`,
      [id, now],
    );
    return changed > 0;
  }

  async nextExecutionDueAt(): Promise<number | null> {
    const row = await one<Row>(this.exec, 'SELECT MIN(next_run_at) AS due FROM workflow_executions WHERE next_run_at IS NOT NULL');
    return numberOrNull(row?.due);
  }

  private async keyConflict(exec: SqlExecutor, key: string): Promise<HookyardError> {
    const existing = await one<Row>(exec, 'SELECT id FROM workflows WHERE key = $1', [key]);
    return new HookyardError('conflict', `a workflow with key "${key}" already exists`, existing ? { id: existing.id } : undefined);
  }

  /** Definitions are encrypted as a whole: an http-request node's headers or a signing secret are credentials. */
  private seal(definition: WorkflowDefinition): string {
    return this.box.encrypt(JSON.stringify(definition));
  }

  private open(sealed: unknown): WorkflowDefinition {
    return JSON.parse(this.box.decrypt(String(sealed))) as WorkflowDefinition;
  }

  private toWorkflow(row: Row): Workflow {
    return {
      id: String(row.id),
      key: String(row.key),
      name: String(row.name),
      enabled: Number(row.enabled) === 1,
      sourceId: String(row.source_id),
      version: Number(row.version),
      definition: this.open(row.definition),
      createdAt: Number(row.created_at),
      updatedAt: Number(row.updated_at),
    };
  }

  private toVersion(row: Row): WorkflowVersion {
    return {
      workflowId: String(row.workflow_id),
      version: Number(row.version),
      definition: this.open(row.definition),
      createdAt: Number(row.created_at),
    };
  }
}

const WORKFLOW_SELECT = `SELECT w.*, v.definition FROM workflows w
  JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version`;

async function begin(tx: SqlExecutor, { job, owner, leaseUntil }: Extract<ExecutionWrite, { kind: 'begin' }>): Promise<boolean> {
  const held = await tx.run(
    `UPDATE workflow_executions SET next_run_at = $3, updated_at = $4 WHERE id = $1 AND lease_owner = $2 AND status IN ('running', 'waiting')`,
    [job.executionId, owner, leaseUntil, job.startedAt],
  );
  if (held === 0) return false;
  await insertJob(tx, job);
  return true;
}

async function step(tx: SqlExecutor, { executionId, step: { execution: e, job, started, now }, owner }: Extract<ExecutionWrite, { kind: 'step' }>): Promise<boolean> {
  // A finished or waiting execution gives its lease up; a running one keeps it for the next node.
  const releases = e.status !== 'running';
  const held = await tx.run(
    `UPDATE workflow_executions SET status = $3, current_node = $4, response = $5, error = $6, next_run_at = $7,
       finished_at = $8, updated_at = $9, lease_owner = ${releases ? 'NULL' : 'lease_owner'}
     WHERE id = $1 AND lease_owner = $2`,
    [executionId, owner, e.status, e.currentNode, jsonText(e.response ?? undefined), e.error, e.nextRunAt, e.finishedAt, now],
  );
  if (held === 0) return false;
  if (started) {
    await insertJob(tx, { ...started, ...job, executionId });
  } else {
    await tx.run('UPDATE workflow_jobs SET status = $2, output = $3, error = $4, duration_ms = $5 WHERE id = $1', [
      job.id, job.status, jsonText(job.output), job.error, job.durationMs,
    ]);
  }
  return true;
}

function insertJob(tx: SqlExecutor, job: ExecutionJob): Promise<number> {
  return tx.run(
    `INSERT INTO workflow_jobs (id, execution_id, node_key, type, status, input, output, error, started_at, duration_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [job.id, job.executionId, job.nodeKey, job.type, job.status, jsonText(job.input), jsonText(job.output), job.error, job.startedAt, job.durationMs],
  );
}

function toExecution(row: Row): Execution {
  return {
    id: String(row.id),
    workflowId: String(row.workflow_id),
    version: Number(row.version),
    requestId: String(row.request_id),
    status: String(row.status) as Execution['status'],
    currentNode: row.current_node === null ? null : String(row.current_node),
    response: parsed(row.response) as Execution['response'],
    error: row.error === null ? null : String(row.error),
    nextRunAt: numberOrNull(row.next_run_at),
    claims: Number(row.claims),
    startedAt: Number(row.started_at),
    finishedAt: numberOrNull(row.finished_at),
    updatedAt: Number(row.updated_at),
  };
}

function toJob(row: Row): ExecutionJob {
  return {
    id: String(row.id),
    executionId: String(row.execution_id),
    nodeKey: String(row.node_key),
    type: String(row.type) as ExecutionJob['type'],
    status: String(row.status) as ExecutionJob['status'],
    input: parsed(row.input),
    output: parsed(row.output),
    error: row.error === null ? null : String(row.error),
    startedAt: Number(row.started_at),
    durationMs: numberOrNull(row.duration_ms),
  };
}
