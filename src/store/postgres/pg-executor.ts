import { createHash } from 'node:crypto';
import pg from 'pg';
import { HookyardError } from '../../errors.js';
import type { SqlExecutor } from '../sql.js';

export interface PgOptions {
  connectionString: string;
  /** Schema to work in (tests use one per file); default: the server's search_path. */
  schema?: string;
  poolSize?: number;
}

type Queryable = pg.Pool | pg.PoolClient;

/**
 * PostgreSQL through a `pg` pool. Statements already use `$n` placeholders. Booleans are sent as 0/1 (flags are
 * integer columns on both databases) and a unique violation that a check-then-write raced into becomes a 409, not a 500.
 */
export class PgExecutor implements SqlExecutor {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;

  constructor(options: PgOptions) {
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      ...(options.schema === undefined ? {} : { options: `-c search_path=${quoteIdent(options.schema)}` }),
    });
    // An idle client losing its server is reported here; the pool replaces it on the next checkout.
    this.pool.on('error', () => undefined);
  }

  all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return query<T>(this.pool, sql, params).then((result) => result.rows);
  }

  allRaw(sql: string, params: readonly unknown[] = []): Promise<unknown[][]> {
    return query<unknown[]>(this.pool, sql, params, 'array').then((result) => result.rows as unknown[][]);
  }

  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return query(this.pool, sql, params).then((result) => result.rowCount ?? 0);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options: { durable?: boolean } = {}): Promise<T> {
    // The callbacks only touch the database, so a rerun is safe.
    return retryDeadlocks(() => this.transactionOnce(fn, options));
  }

  private async transactionOnce<T>(fn: (tx: SqlExecutor) => Promise<T>, options: { durable?: boolean }): Promise<T> {
    const client = await this.pool.connect();
    try {
      // Claims and attempt records may skip the wait for the WAL flush (see SqlExecutor); one round trip either way.
      // Named statements keep their plans per connection, and after five runs PostgreSQL may settle on a generic plan.
      // For the queue's claims and outcome batches (the relaxed transactions) one made while the tables were small was
      // a sequential scan of deliveries for every batch (1,500 rows read per delivery after 10,000 messages), so they
      // are planned on every run with their real parameters. Everything else keeps PostgreSQL's default: the message
      // inserts (rows from arrays, key lookups) spent ~30% of the server's CPU planning again on every batch.
      await client.query(options.durable === false ? 'BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL plan_cache_mode = force_custom_plan' : 'BEGIN');
      const result = await fn(bound(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Runs `fn` on one connection holding a session-level advisory lock (migrations: two nodes must not race). */
  async withAdvisoryLock<T>(key: string, fn: (session: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
      try {
        return await fn(bound(client, true));
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      }
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** An executor on one checked-out client: inside a transaction (nesting uses savepoints) or a locked session. */
function bound(client: pg.PoolClient, session = false): SqlExecutor {
  let savepoints = 0;
  const self: SqlExecutor = {
    dialect: 'postgres',
    all: async <T>(sql: string, params: readonly unknown[] = []) => (await query<T>(client, sql, params)).rows,
    allRaw: async (sql: string, params: readonly unknown[] = []) => (await query<unknown[]>(client, sql, params, 'array')).rows as unknown[][],
    run: async (sql: string, params: readonly unknown[] = []) => (await query(client, sql, params)).rowCount ?? 0,
    transaction: async <T>(fn: (tx: SqlExecutor) => Promise<T>) => {
      const [begin, commit, rollback] = session
        ? ['BEGIN', 'COMMIT', 'ROLLBACK']
        : [`SAVEPOINT sp${++savepoints}`, `RELEASE SAVEPOINT sp${savepoints}`, `ROLLBACK TO SAVEPOINT sp${savepoints}`];
      await client.query(begin);
      try {
        const result = await fn(session ? bound(client) : self);
        await client.query(commit);
        return result;
      } catch (err) {
        await client.query(rollback).catch(() => undefined);
        throw err;
      } finally {
        if (!session) savepoints--;
      }
    },
    close: async () => {
      throw new Error('cannot close the database from inside a transaction');
    },
  };
  return self;
}

const DEADLOCK_DETECTED = '40P01';

/**
 * Batches written side by side (group commits in flight together) can meet on the same unique keys in opposite
 * orders; PostgreSQL then aborts one of them as a deadlock, and running it again succeeds. `run` must be safe to rerun
 * (a transaction, or one statement: either left nothing behind).
 */
export async function retryDeadlocks<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if ((err as { code?: string }).code !== DEADLOCK_DETECTED || attempt >= 5) throw err;
      // A rerun at once can take the same key first again and meet the other transaction once more: wait a little,
      // a random while, so that one of them gets ahead.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

// Statements with parameters are prepared once per connection under a name derived from their text: the server then
// skips parsing and planning them again (measured: about twice the queries per second on a 2-core machine).
const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `hy_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    if (statementNames.size < 10_000) statementNames.set(sql, name);
  }
  return name;
}

async function query<T>(target: Queryable, sql: string, params: readonly unknown[], rowMode?: 'array'): Promise<pg.QueryResult<T & pg.QueryResultRow>> {
  try {
    // Without parameters a text may hold several statements (migrations, BEGIN; SET …), which cannot be prepared.
    if (params.length === 0 && rowMode === undefined) return await target.query<T & pg.QueryResultRow>(sql);
    const config = { name: statementName(sql), text: sql, values: params.map(toPg) };
    if (rowMode === 'array') return (await target.query({ ...config, rowMode })) as unknown as pg.QueryResult<T & pg.QueryResultRow>;
    return await target.query<T & pg.QueryResultRow>(config);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      throw new HookyardError('conflict', 'a resource with the same unique key was created at the same moment', { constraint: (err as { constraint?: string }).constraint });
    }
    throw err;
  }
}

function toPg(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
