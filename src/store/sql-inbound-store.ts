import type { SecretBox } from '../crypto/secret-box.js';
import { HookyardError } from '../errors.js';
import { jsonFieldHolds, type SqlDialect } from './dialect.js';
import { keysetPage } from './keyset.js';
import { one, type SqlExecutor } from './sql.js';
import type {
  ClaimedJob, DocumentFilter, InboundRecord, InsertRequestResult, NewInboundRequest, Page, PageQuery, ProcessingResult,
  RequestFilter, Source, SourcePatch, StoredDocument, DocumentScan, DocumentWrites,
} from './store.js';

type Row = Record<string, unknown>;

const SOURCE_COLUMNS: Record<keyof SourcePatch, string> = {
  name: 'name',
  description: 'description',
  methods: 'methods',
  verification: 'verification',
  ipAllowlist: 'ip_allowlist',
  dedup: 'dedup',
  response: 'response',
  handler: 'handler',
  forward: 'forward',
  ordering: 'ordering',
};

const FIELD_SEGMENT = /^[A-Za-z0-9_$-]{1,100}$/;

const jsonText = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));
const parsed = <T>(value: unknown): T | null => (value === null || value === undefined ? null : (JSON.parse(String(value)) as T));

/** The inbound half of the SQL store: sources, the request log, processing jobs and the handlers' documents. */
export class SqlInboundStore {
  constructor(
    private readonly exec: SqlExecutor,
    private readonly sql: SqlDialect,
    private readonly box: SecretBox,
  ) {}

  // ---- sources

  async createSource(source: Source): Promise<Source> {
    const rows = await this.exec.all(
      `INSERT INTO sources (id, name, description, methods, verification, ip_allowlist, dedup, response, handler, forward,
         created_at, updated_at, ordering)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING RETURNING id`,
      [
        source.id, source.name, source.description, JSON.stringify(source.methods), this.sealVerification(source.verification),
        jsonText(source.ipAllowlist), jsonText(source.dedup), jsonText(source.response), source.handler,
        JSON.stringify(source.forward), source.createdAt, source.updatedAt, jsonText(source.ordering),
      ],
    );
    if (rows.length === 0) throw await this.nameConflict(source.name);
    return source;
  }

  async getSource(idOrName: string): Promise<Source | null> {
    // Two key lookups, as for apps (an OR of both took a multi-index OR and a sort); an id wins over a name.
    const row =
      (await one<Row>(this.exec, 'SELECT * FROM sources WHERE id = $1', [idOrName])) ??
      (await one<Row>(this.exec, 'SELECT * FROM sources WHERE name = $1', [idOrName]));
    return row ? this.toSource(row) : null;
  }

  listSources(page: PageQuery): Promise<Page<Source>> {
    return keysetPage(this.exec, 'SELECT * FROM sources WHERE id > $1 ORDER BY id LIMIT $2', [], page, (row) => this.toSource(row), 'asc');
  }

  async updateSource(id: string, patch: SourcePatch, now: number): Promise<Source | null> {
    const sets: string[] = [];
    const params: unknown[] = [id, now];
    for (const [key, column] of Object.entries(SOURCE_COLUMNS) as Array<[keyof SourcePatch, string]>) {
      if (!(key in patch)) continue;
      const value = patch[key];
      const stored = key === 'verification' ? this.sealVerification(patch.verification ?? null)
        : key === 'name' || key === 'description' || key === 'handler' ? value ?? null
        : jsonText(value);
      sets.push(`${column} = $${params.push(stored)}`);
    }
    if (patch.name !== undefined) {
      const clash = await one<Row>(this.exec, 'SELECT id FROM sources WHERE (name = $1 OR id = $1) AND id <> $2', [patch.name, id]);
      if (clash) throw await this.nameConflict(patch.name);
    }
    const changed = await this.exec.run(`UPDATE sources SET ${[...sets, 'updated_at = $2'].join(', ')} WHERE id = $1`, params);
    return changed > 0 ? this.getSource(id) : null;
  }

  async deleteSource(id: string): Promise<boolean> {
    return this.exec.transaction(async (tx) => {
      // Jobs and requests cascade too; deleting them first keeps the cascade from walking the big tables by FK.
      await tx.run('DELETE FROM jobs WHERE source_id = $1', [id]);
      await tx.run('DELETE FROM requests WHERE source_id = $1', [id]);
      await tx.run('DELETE FROM source_ordering WHERE source_id = $1', [id]);
      return (await tx.run('DELETE FROM sources WHERE id = $1', [id])) > 0;
    });
  }

  private async nameConflict(name: string): Promise<HookyardError> {
    const existing = await one<Row>(this.exec, 'SELECT id FROM sources WHERE name = $1', [name]);
    return new HookyardError('conflict', `a source named "${name}" already exists`, existing ? { id: existing.id } : undefined);
  }

  /** The whole verification config is encrypted: it carries the signing secrets. */
  private sealVerification(verification: Source['verification']): string | null {
    return verification === null ? null : this.box.encrypt(JSON.stringify(verification));
  }

  private toSource(row: Row): Source {
    return {
      id: String(row.id),
      name: String(row.name),
      description: String(row.description),
      methods: parsed<string[]>(row.methods) ?? [],
      verification: row.verification === null ? null : (JSON.parse(this.box.decrypt(String(row.verification))) as Source['verification']),
      ipAllowlist: parsed<string[]>(row.ip_allowlist),
      dedup: parsed<Source['dedup']>(row.dedup),
      response: parsed<Source['response']>(row.response),
      handler: row.handler === null ? null : String(row.handler),
      forward: parsed<Source['forward']>(row.forward) ?? [],
      ordering: parsed<Source['ordering']>(row.ordering),
      createdAt: Number(row.created_at),
      updatedAt: Number(row.updated_at),
    };
  }

  // ---- requests

  async insertRequests(items: readonly NewInboundRequest[]): Promise<InsertRequestResult[]> {
    if (items.length === 0) return [];
    // The whole batch in a few statements: the requests, then (rarely) their duplicates, the out-of-order guard, the jobs.
    return this.exec.transaction(async (tx) => {
      const inserted = new Set((await this.insertRecords(tx, items.map((item) => item.record))).map((row) => String(row.id)));
      const stale = await this.markStale(tx, items.filter(({ record }) => inserted.has(record.id)));
      const results: InsertRequestResult[] = [];
      const duplicates: InboundRecord[] = [];
      for (const { record } of items) {
        if (inserted.has(record.id)) {
          results.push({ id: record.id, duplicateOf: null, stale: stale.has(record.id) });
          continue;
        }
        // The unique (source, dedup key) index refused it: an earlier copy holds the key, maybe in this very batch.
        const first = await one<Row>(tx, 'SELECT id FROM requests WHERE source_id = $1 AND dedup_key = $2', [record.sourceId, record.dedupKey]);
        if (!first) throw new Error(`request ${record.id} conflicts on its id`);
        const duplicateOf = String(first.id);
        duplicates.push({ ...record, status: 'duplicate', responseStatus: 200, dedupKey: null, duplicateOf, processing: { ...record.processing, status: 'none' } });
        results.push({ id: record.id, duplicateOf, stale: false });
      }
      if (duplicates.length > 0) await this.insertRecords(tx, duplicates);
      const jobs = items.filter(({ record, job }) => job !== null && inserted.has(record.id) && !stale.has(record.id)).map(({ record, job }) =>
        job!.status === 'pending'
          ? [record.id, record.sourceId, 'pending', record.receivedAt, 0, null, record.receivedAt]
          : [record.id, record.sourceId, 'running', job!.leaseUntil, 1, job!.leaseOwner, record.receivedAt]);
      if (jobs.length > 0) {
        const rows = this.sql.rows('j', JOB_COLUMNS, 1, jobs);
        await tx.run(
          `INSERT INTO jobs (${JOB_COLUMNS.map(([name]) => name).join(', ')}) SELECT ${JOB_COLUMNS.map(([name]) => name).join(', ')} FROM ${rows.sql}`,
          rows.params,
        );
      }
      const executions = items
        .filter(({ record, executions: planned }) => planned !== undefined && inserted.has(record.id) && !stale.has(record.id))
        .flatMap(({ executions: planned }) => planned!.map(({ execution: e, triggerKey }) =>
          [e.id, e.workflowId, e.version, e.requestId, triggerKey, e.status, e.currentNode, e.nextRunAt, e.startedAt, e.updatedAt]));
      if (executions.length > 0) {
        const names = EXECUTION_COLUMNS.map(([name]) => name).join(', ');
        const rows = this.sql.rows('x', EXECUTION_COLUMNS, 1, executions);
        // `WHERE true`: SQLite reads an ON CONFLICT after a bare SELECT … FROM as part of a join.
        await tx.run(`INSERT INTO workflow_executions (${names}) SELECT ${names} FROM ${rows.sql} WHERE true ON CONFLICT DO NOTHING`, rows.params);
      }
      return results;
    });
  }

  /**
   * The out-of-order guard, inside the batch's transaction: each guarded request moves its entity's newest time forward
   * (a tie too) or, when the entity already has a newer one, is marked stale. Upserts run grouped by entity, keeping the
   * batch's order within one, so that each sees the ones before it and two nodes' batches lock entity rows in the same
   * order (no deadlock); on PostgreSQL the row lock makes a concurrent batch wait and then judge against this one's time.
   */
  private async markStale(tx: SqlExecutor, items: readonly NewInboundRequest[]): Promise<Set<string>> {
    const guarded = items.filter((item) => item.ordering !== undefined);
    const stale = new Set<string>();
    if (guarded.length === 0) return stale;
    const key = (item: NewInboundRequest) => `${item.record.sourceId}\u0000${item.ordering!.entity}`;
    const sorted = guarded.map((item, index) => ({ item, index }))
      .sort((a, b) => (key(a.item) < key(b.item) ? -1 : key(a.item) > key(b.item) ? 1 : a.index - b.index));
    for (const { item: { record, ordering } } of sorted) {
      const moved = await tx.all(
        `INSERT INTO source_ordering (source_id, entity, newest_at, request_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (source_id, entity) DO UPDATE SET newest_at = excluded.newest_at, request_id = excluded.request_id
           WHERE source_ordering.newest_at <= excluded.newest_at
         RETURNING request_id`,
        [record.sourceId, ordering!.entity, ordering!.at, record.id],
      );
      if (moved.length === 0) stale.add(record.id);
    }
    if (stale.size > 0) {
      await tx.run(`UPDATE requests SET stale = 1, processing_status = 'none' WHERE ${this.sql.inList('id', 1)}`, [this.sql.listParam([...stale])]);
    }
    return stale;
  }

  private insertRecords(tx: SqlExecutor, records: readonly InboundRecord[]): Promise<Row[]> {
    const rows = this.sql.rows('r', REQUEST_COLUMNS, 1, records.map(requestParams));
    const names = REQUEST_COLUMNS.map(([name]) => name).join(', ');
    return tx.all<Row>(`INSERT INTO requests (${names}) SELECT ${names} FROM ${rows.sql} WHERE true ON CONFLICT DO NOTHING RETURNING id`, rows.params);
  }

  async getRequest(sourceId: string, id: string): Promise<InboundRecord | null> {
    const row = await one<Row>(this.exec, 'SELECT * FROM requests WHERE source_id = $1 AND id = $2', [sourceId, id]);
    return row ? toRecord(row) : null;
  }

  async findRequest(id: string): Promise<InboundRecord | null> {
    const row = await one<Row>(this.exec, 'SELECT * FROM requests WHERE id = $1', [id]);
    return row ? toRecord(row) : null;
  }

  listRequests(sourceId: string, filter: RequestFilter, page: PageQuery): Promise<Page<InboundRecord>> {
    const where = ['source_id = $3', 'id < $1'];
    const params: unknown[] = [sourceId];
    if (filter.status !== undefined) where.push(`status = $${params.push(filter.status) + 2}`);
    return keysetPage(this.exec, `SELECT * FROM requests WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $2`, params, page, toRecord, 'desc');
  }

  async listRequestsSince(sourceId: string, afterId: string, limit: number): Promise<InboundRecord[]> {
    const rows = await this.exec.all<Row>('SELECT * FROM requests WHERE source_id = $1 AND id > $2 ORDER BY id LIMIT $3', [sourceId, afterId, limit]);
    return rows.map(toRecord);
  }

  async listRequestIdsBetween(sourceId: string, afterId: string, beforeId: string, limit: number): Promise<string[]> {
    // Ids only, from the (source_id, id) index: the stream runs this every poll over rows it has mostly sent already.
    const rows = await this.exec.all<{ id: string }>(
      'SELECT id FROM requests WHERE source_id = $1 AND id > $2 AND id < $3 ORDER BY id LIMIT $4',
      [sourceId, afterId, beforeId, limit],
    );
    return rows.map((row) => row.id);
  }

  // ---- processing jobs

  async claimJobs(opts: { now: number; limit: number; leaseUntil: number; owner: string }): Promise<ClaimedJob[]> {
    // Like delivery claims: a claim lost in a power cut only means the job runs again.
    return this.exec.transaction(async (tx) => {
      const rows = await this.sql.claimJobs(tx, opts);
      return rows.map((row) => ({ request: toRecord(row), attempts: Number(row.job_attempts) - 1, queuedAt: Number(row.job_queued_at) }));
    }, { durable: false });
  }

  async finishJob(requestId: string, result: ProcessingResult, owner: string | null, responseStatus?: number): Promise<boolean> {
    return this.exec.transaction(async (tx) => {
      // With an owner, only the worker that still holds the lease may finish the job (another may have retaken it).
      const removed = owner === null
        ? await tx.run('DELETE FROM jobs WHERE request_id = $1', [requestId])
        : await tx.run('DELETE FROM jobs WHERE request_id = $1 AND lease_owner = $2', [requestId, owner]);
      if (owner !== null && removed === 0) return false;
      await tx.run(
        `UPDATE requests SET processing_status = $2, processing_output = $3, processing_error = $4, processing_ms = $5,
           processed_at = $6, response_status = COALESCE(CAST($7 AS INTEGER), response_status) WHERE id = $1`,
        [requestId, result.status, jsonText(result.output), result.error, result.durationMs, result.finishedAt, responseStatus ?? null],
      );
      return true;
    });
  }

  async requeueRequest(sourceId: string, requestId: string, now: number): Promise<boolean> {
    return this.exec.transaction(async (tx) => {
      const changed = await tx.run(
        `UPDATE requests SET processing_status = 'pending', processing_output = NULL, processing_error = NULL,
           processing_ms = NULL, processed_at = NULL
         WHERE source_id = $1 AND id = $2`,
        [sourceId, requestId],
      );
      if (changed === 0) return false;
      await tx.run(
        `INSERT INTO jobs (request_id, source_id, status, next_attempt_at, attempts, lease_owner, created_at)
         VALUES ($1, $2, 'pending', $3, 0, NULL, $3)
         ON CONFLICT (request_id) DO UPDATE SET status = 'pending', next_attempt_at = $3, attempts = 0, lease_owner = NULL, created_at = $3`,
        [requestId, sourceId, now],
      );
      return true;
    });
  }

  async nextJobDueAt(): Promise<number | null> {
    const row = await one<Row>(this.exec, 'SELECT MIN(next_attempt_at) AS due FROM jobs');
    return row?.due === null || row?.due === undefined ? null : Number(row.due);
  }

  async jobDepth(): Promise<{ pending: number; running: number }> {
    const rows = await this.exec.all<Row>('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status');
    const count = (status: string) => Number(rows.find((row) => row.status === status)?.n ?? 0);
    return { pending: count('pending'), running: count('running') };
  }

  async purgeRequests(opts: { before: number; maxPerSource: number }): Promise<number> {
    // Small batches, each its own transaction, so that a large purge never holds the write lock for long.
    let purged = 0;
    for (;;) {
      const deleted = await this.exec.run(
        `DELETE FROM requests WHERE id IN (
           SELECT id FROM requests WHERE received_at < $1 AND id NOT IN (SELECT request_id FROM jobs) LIMIT 500)`,
        [opts.before],
      );
      purged += deleted;
      if (deleted < 500) break;
    }
    const sources = await this.exec.all<Row>('SELECT id FROM sources');
    for (const source of sources) {
      const cutoff = await one<Row>(this.exec, 'SELECT id FROM requests WHERE source_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2', [
        source.id, opts.maxPerSource,
      ]);
      if (!cutoff) continue;
      purged += await this.exec.run(
        'DELETE FROM requests WHERE source_id = $1 AND id <= $2 AND id NOT IN (SELECT request_id FROM jobs WHERE source_id = $1)',
        [source.id, cutoff.id],
      );
    }
    return purged;
  }

  // ---- documents

  async insertDocument(collection: string, document: StoredDocument): Promise<void> {
    const rows = await this.exec.all(
      'INSERT INTO documents (collection, id, data, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id',
      [collection, document.id, JSON.stringify(document.data), document.createdAt, document.updatedAt],
    );
    if (rows.length === 0) throw new HookyardError('conflict', `document "${document.id}" already exists in "${collection}"`, { id: document.id });
  }

  async findDocuments(collection: string, filter: DocumentFilter, limit: number): Promise<StoredDocument[]> {
    const { where, params } = this.documentWhere(collection, filter);
    const rows = await this.exec.all<Row>(
      `SELECT * FROM documents WHERE ${where} ORDER BY created_at, id LIMIT $${params.push(limit)}`,
      params,
    );
    return rows.map(toDocument);
  }

  async updateDocuments(collection: string, filter: DocumentFilter, patch: Record<string, unknown>, now: number): Promise<number> {
    // Merged here rather than in SQL so that both databases give the same shallow-merge result.
    return this.exec.transaction(async (tx) => {
      const { where, params } = this.documentWhere(collection, filter);
      const rows = await tx.all<Row>(`SELECT id, data FROM documents WHERE ${where}${this.lockRows()}`, params);
      for (const row of rows) {
        const data = { ...(JSON.parse(String(row.data)) as Record<string, unknown>), ...patch };
        await tx.run('UPDATE documents SET data = $3, updated_at = $4 WHERE collection = $1 AND id = $2', [
          collection, row.id, JSON.stringify(data), now,
        ]);
      }
      return rows.length;
    });
  }

  async deleteDocuments(collection: string, filter: DocumentFilter): Promise<number> {
    const { where, params } = this.documentWhere(collection, filter);
    return this.exec.run(`DELETE FROM documents WHERE ${where}`, params);
  }

  async scanDocuments(collection: string, scan: DocumentScan): Promise<StoredDocument[]> {
    return (await this.selectScan(this.exec, collection, scan, '')).map(toDocument);
  }

  async modifyDocuments<T>(collection: string, scan: DocumentScan, change: (found: StoredDocument[]) => { writes: DocumentWrites; result: T }): Promise<T> {
    for (let run = 1; ; run++) {
      try {
        return await this.exec.transaction(async (tx) => {
          const { writes, result } = change((await this.selectScan(tx, collection, scan, this.lockRows())).map(toDocument));
          await this.writeDocuments(tx, collection, writes);
          return result;
        });
      } catch (err) {
        // An upsert that lost the race to insert the same id finds the winner's document on the second run.
        if (!(err instanceof InsertConflict)) throw err;
        if (run === 2) throw new HookyardError('conflict', `document "${err.id}" already exists in "${collection}"`, { id: err.id });
      }
    }
  }

  /** PostgreSQL row locks, re-read at their latest version once a concurrent writer commits; SQLite's transactions are exclusive. */
  private lockRows(): string {
    return this.exec.dialect === 'postgres' ? ' FOR UPDATE' : '';
  }

  private selectScan(exec: SqlExecutor, collection: string, scan: DocumentScan, lock: string): Promise<Row[]> {
    const params: unknown[] = [collection];
    const where = ['collection = $1'];
    if (scan.ids !== undefined) where.push(this.sql.inList('id', params.push(this.sql.listParam(scan.ids))));
    for (const [field, value] of Object.entries(scan.fields)) {
      const pathParam = params.push(this.sql.jsonPathParam(this.fieldPath(field)));
      where.push(jsonFieldHolds(this.exec.dialect, this.sql, 'data', pathParam, params.push(JSON.stringify(value))));
    }
    return exec.all<Row>(`SELECT * FROM documents WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT $${params.push(scan.limit)}${lock}`, params);
  }

  private async writeDocuments(tx: SqlExecutor, collection: string, writes: DocumentWrites): Promise<void> {
    if (writes.delete !== undefined && writes.delete.length > 0) {
      await tx.run(`DELETE FROM documents WHERE collection = $1 AND ${this.sql.inList('id', 2)}`, [collection, this.sql.listParam(writes.delete)]);
    }
    const updates = writes.update ?? [];
    for (let from = 0; from < updates.length; from += DOCUMENT_SLICE) {
      const rows = this.sql.rows('v', DOCUMENT_COLUMNS, 2, updates.slice(from, from + DOCUMENT_SLICE).map(documentParams));
      await tx.run(
        `UPDATE documents AS d SET data = v.data, updated_at = v.updated_at FROM ${rows.sql} WHERE d.collection = $1 AND d.id = v.id`,
        [collection, ...rows.params],
      );
    }
    for (const document of writes.insert ?? []) {
      const inserted = await tx.all(
        'INSERT INTO documents (collection, id, data, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id',
        [collection, ...documentParams(document)],
      );
      if (inserted.length === 0) throw new InsertConflict(document.id);
    }
  }

  private fieldPath(field: string): string[] {
    const path = field.split('.');
    if (!path.every((segment) => FIELD_SEGMENT.test(segment))) {
      throw new HookyardError('validation_error', `invalid document field "${field}": use letters, digits, _ and - between dots`);
    }
    return path;
  }

  private documentWhere(collection: string, filter: DocumentFilter): { where: string; params: unknown[] } {
    const params: unknown[] = [collection];
    const where = ['collection = $1'];
    for (const [field, value] of Object.entries(filter)) {
      if (field === '_id') {
        where.push(`id = $${params.push(String(value))}`);
        continue;
      }
      const pathParam = params.push(this.sql.jsonPathParam(this.fieldPath(field)));
      const valueParam = params.push(JSON.stringify(value ?? null));
      where.push(this.sql.jsonFieldEquals('data', pathParam, valueParam));
    }
    return { where: where.join(' AND '), params };
  }
}

const REQUEST_COLUMNS = [
  ['id', 'text'], ['source_id', 'text'], ['method', 'text'], ['path', 'text'], ['query', 'text'], ['headers', 'text'], ['body', 'bytea'],
  ['received_at', 'bigint'], ['status', 'text'], ['response_status', 'bigint'], ['verified', 'bigint'], ['reason', 'text'],
  ['dedup_key', 'text'], ['duplicate_of', 'text'], ['processing_status', 'text'], ['processing_output', 'text'],
  ['processing_error', 'text'], ['processing_ms', 'bigint'], ['processed_at', 'bigint'],
] as const;
// A queued execution's columns (workflows' store has the rest of them): started with its request, in its commit.
const EXECUTION_COLUMNS = [
  ['id', 'text'], ['workflow_id', 'text'], ['version', 'bigint'], ['request_id', 'text'], ['trigger_key', 'text'], ['status', 'text'],
  ['current_node', 'text'], ['next_run_at', 'bigint'], ['started_at', 'bigint'], ['updated_at', 'bigint'],
] as const;

const JOB_COLUMNS = [
  ['request_id', 'text'], ['source_id', 'text'], ['status', 'text'], ['next_attempt_at', 'bigint'], ['attempts', 'bigint'],
  ['lease_owner', 'text'], ['created_at', 'bigint'],
] as const;

function requestParams(record: InboundRecord): unknown[] {
  const { processing } = record;
  return [
    record.id, record.sourceId, record.method, record.path, record.query, JSON.stringify(record.headers), record.body,
    record.receivedAt, record.status, record.responseStatus, record.verified === null ? null : record.verified ? 1 : 0,
    record.reason, record.dedupKey, record.duplicateOf, processing.status, jsonText(processing.output), processing.error,
    processing.durationMs, processing.finishedAt,
  ];
}

function toRecord(row: Row): InboundRecord {
  return {
    id: String(row.id),
    sourceId: String(row.source_id),
    method: String(row.method),
    path: String(row.path),
    query: String(row.query),
    headers: JSON.parse(String(row.headers)) as Record<string, string>,
    body: Buffer.isBuffer(row.body) ? row.body : Buffer.from(row.body as Uint8Array),
    receivedAt: Number(row.received_at),
    status: String(row.status) as InboundRecord['status'],
    responseStatus: Number(row.response_status),
    verified: row.verified === null ? null : Number(row.verified) === 1,
    reason: row.reason === null ? null : String(row.reason),
    dedupKey: row.dedup_key === null ? null : String(row.dedup_key),
    duplicateOf: row.duplicate_of === null ? null : String(row.duplicate_of),
    stale: Number(row.stale) === 1,
    processing: {
      status: String(row.processing_status) as InboundRecord['processing']['status'],
      output: parsed<unknown>(row.processing_output),
      error: row.processing_error === null ? null : String(row.processing_error),
      durationMs: row.processing_ms === null ? null : Number(row.processing_ms),
      finishedAt: row.processed_at === null ? null : Number(row.processed_at),
    },
  };
}

const DOCUMENT_COLUMNS = [['id', 'text'], ['data', 'text'], ['created_at', 'bigint'], ['updated_at', 'bigint']] as const;
// 1024 rows × 4 columns: well within SQLite's 32,766 parameters.
const DOCUMENT_SLICE = 1024;

const documentParams = (document: StoredDocument): unknown[] => [document.id, JSON.stringify(document.data), document.createdAt, document.updatedAt];

class InsertConflict extends Error {
  constructor(readonly id: string) {
    super(`document "${id}" exists`);
  }
}

function toDocument(row: Row): StoredDocument {
  return {
    id: String(row.id),
    data: JSON.parse(String(row.data)) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
