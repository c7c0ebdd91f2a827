import type { SqlDialect } from '../dialect.js';

export function pgDialect(): SqlDialect {
  return {
    inList: (column, param) => `${column} = ANY($${param}::text[])`,
    listParam: (values) => [...values],
    // SKIP LOCKED lets several workers claim at once without waiting for, or taking, each other's rows.
    claimDeliveries: (tx, claim) =>
      tx.all(
        `WITH due AS (
           SELECT message_id, endpoint_id FROM deliveries
           WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1 AND NOT (endpoint_id = ANY($2::text[]))
           ORDER BY next_attempt_at
           LIMIT $3
           FOR UPDATE SKIP LOCKED
         )
         UPDATE deliveries d SET status = 'sending', next_attempt_at = $4, lease_owner = $5, updated_at = $1
         FROM due JOIN messages m ON m.id = due.message_id
         WHERE d.message_id = due.message_id AND d.endpoint_id = due.endpoint_id
         RETURNING d.*, m.event_type, m.payload, m.created_at AS message_created_at`,
        [claim.now, [...claim.excludeEndpoints], claim.limit, claim.leaseUntil, claim.owner],
      ),
    claimJobs: async (tx, claim) => {
      const rows = await tx.all<Record<string, unknown>>(
        `WITH due AS (
           SELECT request_id FROM jobs WHERE next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED
         ), claimed AS (
           UPDATE jobs j SET status = 'running', next_attempt_at = $3, lease_owner = $4, attempts = j.attempts + 1
           FROM due WHERE j.request_id = due.request_id
           RETURNING j.request_id, j.attempts
         )
         UPDATE requests r SET processing_status = 'running'
         FROM claimed WHERE r.id = claimed.request_id
         RETURNING r.*, claimed.attempts AS job_attempts`,
        [claim.now, claim.limit, claim.leaseUntil, claim.owner],
      );
      return rows;
    },
    // A missing field and a JSON null both match null, as on SQLite (json_extract gives NULL for both).
    jsonFieldEquals: (column, pathParam, valueParam) =>
      `COALESCE(${column}::jsonb #> $${pathParam}::text[], 'null'::jsonb) = $${valueParam}::jsonb`,
    jsonPathParam: (path) => [...path],
    // One array parameter per column, zipped back into rows by unnest: one statement text whatever the batch size.
    rows: (alias, columns, firstParam, rows) => ({
      sql: `unnest(${columns.map(([, type], index) => `$${firstParam + index}::${type}[]`).join(', ')}) AS ${alias}(${columns.map(([name]) => name).join(', ')})`,
      params: columns.map((_column, index) => rows.map((row) => row[index] ?? null)),
    }),
    runScript: async (tx, sql) => {
      await tx.run(sql);
    },
  };
}
