import type { SecretBox } from '../crypto/secret-box.js';
import { loadMigrations, migrate } from './migrate.js';
import { pgDialect } from './postgres/pg-dialect.js';
import { PgExecutor } from './postgres/pg-executor.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './store.js';
import { sqliteDialect } from './sqlite/sqlite-dialect.js';
import { SqliteExecutor } from './sqlite/sqlite-executor.js';

export interface OpenStoreOptions {
  databaseUrl: string;
  box: SecretBox;
  sqliteSynchronous?: 'full' | 'normal';
  /** PostgreSQL schema to use (tests: one per file); default: the connection's search_path. */
  pgSchema?: string;
  pgPoolSize?: number;
}

/** Opens the configured database and brings its schema up to date. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.databaseUrl.startsWith('sqlite:')) {
    const executor = new SqliteExecutor({ path: options.databaseUrl.slice('sqlite:'.length), synchronous: options.sqliteSynchronous });
    const dialect = sqliteDialect(executor);
    await migrate(executor, loadMigrations('sqlite'), dialect.runScript);
    return new SqlStore(executor, dialect, options.box);
  }
  const executor = new PgExecutor({ connectionString: options.databaseUrl, schema: options.pgSchema, poolSize: options.pgPoolSize });
  try {
    // Two nodes starting together: the advisory lock makes one apply the migrations while the other waits.
    await executor.withAdvisoryLock('hookyard_migrations', (session) => migrate(session, loadMigrations('postgres'), pgDialect().runScript));
  } catch (err) {
    await executor.close();
    throw err;
  }
  return new SqlStore(executor, pgDialect(), options.box);
}
