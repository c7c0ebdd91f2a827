import type { SqlDialect } from '../dialect.js';
import type { SqlExecutor } from '../sql.js';
import type { SqliteExecutor } from './sqlite-executor.js';

export function sqliteDialect(executor: SqliteExecutor): SqlDialect {
  return {
    inList: (column, param) => `${column} IN (SELECT value FROM json_each($${param}))`,
    listParam: (values) => JSON.stringify(values),
    // One writer at a time in SQLite, so a plain UPDATE … RETURNING is an atomic claim. Expired leases ('sending'
    // rows whose next_attempt_at passed) are claimable like due pending rows.
    claimDeliveriesSql: `
      UPDATE deliveries SET status = 'sending', next_attempt_at = $1, lease_owner = $2, updated_at = $3
      WHERE (message_id, endpoint_id) IN (
        SELECT message_id, endpoint_id FROM deliveries
        WHERE status IN ('pending', 'sending') AND next_attempt_at <= $3
          AND endpoint_id NOT IN (SELECT value FROM json_each($4))
        ORDER BY next_attempt_at
        LIMIT $5
      )
      RETURNING *`,
    runScript: async (_tx: SqlExecutor, sql: string) => executor.execScript(sql),
  };
}
