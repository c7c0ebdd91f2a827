import type { SecretBox } from '../crypto/secret-box.js';
import { loadMigrations, migrate } from './migrate.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './store.js';
import { sqliteDialect } from './sqlite/sqlite-dialect.js';
import { SqliteExecutor } from './sqlite/sqlite-executor.js';

export interface OpenStoreOptions {
  databaseUrl: string;
  box: SecretBox;
  sqliteSynchronous?: 'full' | 'normal';
}

/** Opens the configured database and brings its schema up to date. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.databaseUrl.startsWith('sqlite:')) {
    const executor = new SqliteExecutor({ path: options.databaseUrl.slice('sqlite:'.length), synchronous: options.sqliteSynchronous });
    const dialect = sqliteDialect(executor);
    await migrate(executor, loadMigrations('sqlite'), dialect.runScript);
    return new SqlStore(executor, dialect, options.box);
  }
  throw new Error('PostgreSQL support is not built yet: use a SQLite path for HOOKYARD_DATABASE_URL');
}
