/**
 * The lowest layer of the store: one way to run SQL. Statements use `$1, $2 …` placeholders on every dialect.
 * `transaction` gives the callback an executor bound to that transaction; nothing else sees its writes until it commits.
 */
export interface SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /**
   * Rows as arrays of their values in the order selected. For hot paths only (claims): the drivers build an array
   * several times faster than an object with a property per column.
   */
  allRaw(sql: string, params?: readonly unknown[]): Promise<unknown[][]>;
  /** Runs a statement and returns the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * `durable: false` lets the commit skip the wait for stable storage (SQLite synchronous=NORMAL, PostgreSQL
   * synchronous_commit=off). Only for writes whose loss in a power cut is harmless: a lost claim or attempt record
   * means a delivery is attempted again, which at-least-once delivery allows. Never for what a 2xx acknowledges.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: { durable?: boolean }): Promise<T>;
  close(): Promise<void>;
}

export async function one<T>(exec: SqlExecutor, sql: string, params?: readonly unknown[]): Promise<T | undefined> {
  const rows = await exec.all<T>(sql, params);
  return rows[0];
}
