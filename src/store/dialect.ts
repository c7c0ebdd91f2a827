import type { SqlExecutor } from './sql.js';

/** The few statements that differ between SQLite and PostgreSQL; everything else in SqlStore is shared SQL. */
export interface SqlDialect {
  /** A predicate fragment `<column> IN (…)` over one array parameter `$n`. */
  inList(column: string, param: number): string;
  listParam(values: readonly string[]): unknown;
  /**
   * Claims due deliveries: pending ones whose time has come and sending ones whose lease expired. Sets them
   * 'sending' with next_attempt_at = the lease's end. Params: $1 lease end, $2 owner, $3 now, $4 excluded endpoint
   * ids (listParam), $5 limit. Returns the claimed rows.
   */
  readonly claimDeliveriesSql: string;
  runScript(tx: SqlExecutor, sql: string): Promise<void>;
}
