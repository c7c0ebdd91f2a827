import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SqlExecutor } from './sql.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

// Resolves to src/store/migrations from both src/store (tests) and dist/store (the built server).
const MIGRATIONS_ROOT = fileURLToPath(new URL('../../src/store/migrations/', import.meta.url));

export function loadMigrations(dialect: 'sqlite' | 'postgres'): Migration[] {
  const dir = `${MIGRATIONS_ROOT}${dialect}`;
  return readdirSync(dir)
    .filter((file) => /^\d{4}_[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 4)), name: file, sql: readFileSync(`${dir}/${file}`, 'utf8') }));
}

/**
 * Applies the migrations not yet recorded, each in its own transaction, in order. Forward-only: a recorded version
 * is never run again. `runScript` executes a multi-statement file inside the open transaction.
 */
export async function migrate(
  exec: SqlExecutor,
  migrations: readonly Migration[],
  runScript: (tx: SqlExecutor, sql: string) => Promise<void>,
): Promise<number[]> {
  await exec.run(
    'CREATE TABLE IF NOT EXISTS hookyard_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
  );
  const applied: number[] = [];
  for (const migration of migrations) {
    const done = await exec.transaction(async (tx) => {
      // Re-read inside the transaction: another node may have applied it while we waited for the lock.
      const rows = await tx.all('SELECT 1 FROM hookyard_migrations WHERE version = $1', [migration.version]);
      if (rows.length > 0) return false;
      await runScript(tx, migration.sql);
      await tx.run('INSERT INTO hookyard_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        Date.now(),
      ]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  return applied;
}
