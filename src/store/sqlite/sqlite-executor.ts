import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SqlExecutor } from '../sql.js';
import { WalSync } from './wal-sync.js';

type Statement = Database.Statement<unknown[], Record<string, unknown>>;

/** A statement with `$n` placeholders rewritten to positional `?`, and which `$n` feeds each `?`. */
interface Prepared {
  statement: Statement;
  order: number[];
}

export interface SqliteOptions {
  /** File path or ':memory:'. */
  path: string;
  synchronous?: 'full' | 'normal';
}

/**
 * better-sqlite3 is synchronous and has one connection, so a transaction that awaits between statements could
 * interleave with another caller's statements. A FIFO lock makes transactions exclusive; plain statements wait for
 * it only while a transaction is open.
 */
export class SqliteExecutor implements SqlExecutor {
  readonly dialect = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly statements = new Map<string, Prepared>();
  private readonly rawStatements = new Map<string, Prepared>();
  private locked = false;
  private readonly waiters: Array<() => void> = [];
  private savepoints = 0;
  private readonly synchronous: 'full' | 'normal';
  /** Set when durable commits flush the WAL off the event loop (see WalSync); otherwise FULL does it inside COMMIT. */
  private readonly walSync: WalSync | undefined;

  constructor(options: SqliteOptions, walSync?: (walPath: string) => WalSync) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    const journal = this.db.pragma('journal_mode = WAL', { simple: true });
    this.synchronous = options.synchronous ?? 'full';
    if (this.synchronous === 'full' && journal === 'wal' && options.path !== ':memory:') {
      this.walSync = walSync ? walSync(`${options.path}-wal`) : new WalSync(`${options.path}-wal`);
    }
    this.db.pragma(`synchronous = ${this.synchronous === 'normal' || this.walSync ? 'NORMAL' : 'FULL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
  }

  all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.durably(sql, false, this.outside(() => this.allNow<T>(sql, params)));
  }

  allRaw(sql: string, params: readonly unknown[] = []): Promise<unknown[][]> {
    return this.durably(sql, true, this.outside(() => this.allRawNow(sql, params)));
  }

  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.durably(sql, false, this.outside(() => this.runNow(sql, params)));
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options: { durable?: boolean } = {}): Promise<T> {
    await this.acquire();
    const relax = options.durable === false && this.synchronous === 'full' && !this.walSync;
    let result: T;
    try {
      if (relax) this.control('PRAGMA synchronous = NORMAL');
      result = await this.runTransaction(fn, 'BEGIN IMMEDIATE', 'COMMIT', 'ROLLBACK');
    } finally {
      if (relax) this.control('PRAGMA synchronous = FULL');
      this.release();
    }
    // After the lock is released: the next transaction writes while this one's frames are being flushed.
    if (this.walSync && options.durable !== false) await this.walSync.durable();
    return result;
  }

  /** Executes a script of several statements (migrations). */
  execScript(sql: string): void {
    this.db.exec(sql);
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    // Waits for an open transaction to finish rather than cutting it off.
    await this.acquire();
    try {
      await this.walSync?.close();
      this.db.close();
    } finally {
      this.release();
    }
  }

  private async runTransaction<T>(
    fn: (tx: SqlExecutor) => Promise<T>,
    begin: string,
    commit: string,
    rollback: string,
  ): Promise<T> {
    this.control(begin);
    try {
      const result = await fn(this.bound());
      this.control(commit);
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec(rollback);
      throw err;
    }
  }

  /** The executor handed to a transaction callback: it already holds the lock; nesting uses savepoints. */
  private bound(): SqlExecutor {
    return {
      dialect: 'sqlite',
      all: async <T>(sql: string, params: readonly unknown[] = []) => this.allNow<T>(sql, params),
      allRaw: async (sql: string, params: readonly unknown[] = []) => this.allRawNow(sql, params),
      run: async (sql: string, params: readonly unknown[] = []) => this.runNow(sql, params),
      transaction: async <T>(fn: (tx: SqlExecutor) => Promise<T>) => {
        const name = `sp${++this.savepoints}`;
        try {
          return await this.runTransaction(fn, `SAVEPOINT ${name}`, `RELEASE ${name}`, `ROLLBACK TO ${name}; RELEASE ${name}`);
        } finally {
          this.savepoints--;
        }
      },
      close: async () => {
        throw new Error('cannot close the database inside a transaction');
      },
    };
  }

  private allNow<T>(sql: string, params: readonly unknown[]): T[] {
    const { statement, order } = this.prepare(sql);
    const values = bind(order, params);
    if (statement.reader) return statement.all(...values) as T[];
    statement.run(...values);
    return [];
  }

  private allRawNow(sql: string, params: readonly unknown[]): unknown[][] {
    const { statement, order } = this.prepare(sql, true);
    return statement.all(...bind(order, params)) as unknown as unknown[][];
  }

  private runNow(sql: string, params: readonly unknown[]): number {
    const { statement, order } = this.prepare(sql);
    return statement.run(...bind(order, params)).changes;
  }

  /**
   * BEGIN, COMMIT, SAVEPOINT and the pragmas a transaction switches, through the statement cache: `db.exec` and
   * `db.pragma` parse their text on every call, twice or four times per transaction (measured: ~4% of a worker's CPU).
   */
  private control(sql: string): void {
    this.prepare(sql).statement.run();
  }

  // better-sqlite3 binds `?` by position only, so `$2 … $1 … $2` becomes `? … ? … ?` fed by [p2, p1, p2].
  private prepare(sql: string, raw = false): Prepared {
    // A statement in raw mode stays so (better-sqlite3 keeps the mode on the statement): it has a cache of its own.
    const cache = raw ? this.rawStatements : this.statements;
    let prepared = cache.get(sql);
    if (!prepared) {
      const order: number[] = [];
      const text = sql.replace(/\$(\d+)/g, (_match, index: string) => {
        order.push(Number(index));
        return '?';
      });
      prepared = { statement: this.db.prepare(text), order };
      if (raw) prepared.statement.raw(true);
      cache.set(sql, prepared);
    }
    return prepared;
  }

  /** A write outside a transaction is its own durable commit: it resolves once WalSync has flushed it. */
  private durably<T>(sql: string, raw: boolean, result: Promise<T>): Promise<T> {
    if (!this.walSync) return result;
    let readonly: boolean;
    try {
      readonly = this.prepare(sql, raw).statement.readonly;
    } catch {
      return result; // SQL that does not prepare: `result` already carries that error
    }
    if (readonly) return result;
    const walSync = this.walSync;
    return result.then(async (value) => {
      await walSync.durable();
      return value;
    });
  }

  /** A statement outside any transaction: run now, or once the open transaction is over (see the class comment). */
  private outside<T>(fn: () => T): Promise<T> {
    if (this.locked) return this.withLock(fn);
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private withLock<T>(fn: () => T): Promise<T> {
    return this.acquire().then(() => {
      try {
        return fn();
      } finally {
        this.release();
      }
    });
  }

  private acquire(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.locked = false;
  }
}

/** The values for a prepared statement's `?`s, in their order, from the `$n` parameters. */
function bind(order: readonly number[], params: readonly unknown[]): unknown[] {
  return order.map((index) => toSqlite(params[index - 1]));
}

function toSqlite(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}
