import type { SqlExecutor } from './sql.js';

/** The few statements that differ between SQLite and PostgreSQL; everything else in SqlStore is shared SQL. */
export interface SqlDialect {
  /** A predicate fragment `<column> IN (…)` over one array parameter `$n`. */
  inList(column: string, param: number): string;
  listParam(values: readonly string[]): unknown;
  /**
   * Claims due deliveries. Params: $1 lease_until, $2 owner, $3 now, $4 excluded endpoint ids (listParam), $5 limit.
   * Returns the claimed delivery rows.
   */
  readonly claimDeliveriesSql: string;
  runScript(tx: SqlExecutor, sql: string): Promise<void>;
}
