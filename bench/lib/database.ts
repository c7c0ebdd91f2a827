import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';

export interface BenchDatabase {
  label: 'SQLite' | 'PostgreSQL';
  /** What a `hookyard serve` child needs in its environment to use this database. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/**
 * The database of one benchmarked system: a SQLite file in `dir`, or a fresh schema on the PostgreSQL server given by
 * `--db postgres://…` (dropped afterwards), so that runs never see each other's rows.
 */
export async function benchDatabase(db: string | undefined, dir: string): Promise<BenchDatabase> {
  if (db === undefined || db === 'sqlite') {
    return { label: 'SQLite', env: { HOOKYARD_DATABASE_URL: join(dir, 'hookyard.db') }, drop: async () => undefined };
  }
  const schema = `hy_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: db });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  return {
    label: 'PostgreSQL',
    env: {
      HOOKYARD_DATABASE_URL: `${db}${db.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      // Every node of one run shares the key (required with PostgreSQL).
      HOOKYARD_SECRET_KEY: 'ef'.repeat(32),
    },
    async drop() {
      const client = new pg.Client({ connectionString: db });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}
