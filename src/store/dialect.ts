import type { SqlExecutor } from './sql.js';

export interface BulkRows {
  sql: string;
  params: unknown[];
}

export interface ClaimQuery {
  now: number;
  leaseUntil: number;
  owner: string;
  excludeEndpoints: readonly string[];
  limit: number;
}

/** The few statements that differ between SQLite and PostgreSQL; everything else in SqlStore is shared SQL. */
export interface SqlDialect {
  /** A predicate fragment `<column> IN (…)` over one array parameter `$n`. */
  inList(column: string, param: number): string;
  listParam(values: readonly string[]): unknown;
  /**
   * Claims due deliveries inside the caller's transaction: pending ones whose time has come and sending ones whose
   * lease expired. Sets them 'sending' with next_attempt_at = the lease's end and returns them as rows of
   * CLAIM_COLUMNS (arrays, see rows.ts).
   */
  claimDeliveries(tx: SqlExecutor, claim: ClaimQuery): Promise<unknown[][]>;
  /**
   * Claims due inbound processing jobs (pending, or running with an expired lease) like deliveries; returns the
   * request rows with the job's new attempt count as `job_attempts` and its created_at as `job_queued_at`.
   */
  claimJobs(tx: SqlExecutor, claim: { now: number; limit: number; leaseUntil: number; owner: string }): Promise<Array<Record<string, unknown>>>;
  /** A predicate: the JSON document in `column` has, at the path in param `$pathParam`, the JSON value in `$valueParam`. */
  jsonFieldEquals(column: string, pathParam: number, valueParam: number): string;
  /** The parameter value for a path of field names (validated: letters, digits, _ $ -). */
  jsonPathParam(path: readonly string[]): unknown;
  /** A predicate: the JSON array of strings in `column` (text, may be NULL) holds the string in `$param`. */
  jsonArrayHas(column: string, param: number): string;
  /**
   * A relation `alias(columns…)` holding `rows` (arrays in column order) as parameters from `$firstParam` on, so that a
   * batch is one statement instead of one per row (on PostgreSQL each statement is a network round trip). The first
   * column must never be NULL. On SQLite every value is a parameter, and a statement binds at most 32,766: callers keep
   * rows × columns (padded to a power of two) well within that.
   */
  rows(alias: string, columns: ReadonlyArray<readonly [name: string, type: 'text' | 'bigint' | 'bytea']>, firstParam: number, rows: ReadonlyArray<readonly unknown[]>): BulkRows;
  runScript(tx: SqlExecutor, sql: string): Promise<void>;
  /**
   * The locking clause that makes a sub-SELECT hold the rows it found until commit (PostgreSQL's FOR KEY SHARE; SQLite,
   * one writer at a time, needs none): a concurrent DELETE of them waits for this transaction.
   */
  keepRows: string;
  /**
   * Where one statement can write a batch of messages and their deliveries as its own transaction (PostgreSQL's
   * data-modifying CTEs: one round trip instead of five). `messages` are rows of MESSAGE_BATCH_COLUMNS from $1,
   * `deliveries` rows of DELIVERY_COLUMNS after them. Only messages whose config_version is null or equal to the
   * configuration counter are written. Returns the counter and the ids written (eventId conflicts are not).
   */
  insertMessagesAtOnce?(exec: SqlExecutor, messages: BulkRows, deliveries: BulkRows): Promise<{ version: number; inserted: Set<string> }>;
}

/**
 * MongoDB's equality for the handlers' documents: the JSON at the path in `$pathParam` is the scalar JSON in
 * `$valueParam` (null also matching a missing field, as `jsonFieldEquals`), or an array holding it as an element.
 * Exact for scalars on both databases: SQLite's JSON functions make true and 1 (and a string and an object's JSON
 * text) alike, so the JSON types are compared too.
 */
export function jsonFieldHolds(kind: SqlExecutor['dialect'], sql: SqlDialect, column: string, pathParam: number, valueParam: number): string {
  const equals = sql.jsonFieldEquals(column, pathParam, valueParam);
  if (kind === 'postgres') {
    const at = `(${column}::jsonb #> $${pathParam}::text[])`;
    return `(${equals} OR (jsonb_typeof(${at}) = 'array' AND ${at} @> jsonb_build_array($${valueParam}::jsonb)))`;
  }
  const type = `json_type($${valueParam})`;
  return `((${equals} AND (json_type(${column}, $${pathParam}) IS ${type} OR ${type} = 'null'))
    OR (json_type(${column}, $${pathParam}) = 'array' AND EXISTS (SELECT 1 FROM json_each(${column}, $${pathParam}) AS element
      WHERE element.type = ${type} AND element.value IS json_extract($${valueParam}, '$'))))`;
}
