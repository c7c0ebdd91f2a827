import type { SqlExecutor } from './sql.js';

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
   * lease expired. Sets them 'sending' with next_attempt_at = the lease's end and returns the delivery rows joined
   * with their message's `event_type`, `payload` and `message_created_at`.
   */
  claimDeliveries(tx: SqlExecutor, claim: ClaimQuery): Promise<Array<Record<string, unknown>>>;
  runScript(tx: SqlExecutor, sql: string): Promise<void>;
}
