import { dueWindowFull, SKIP_WINDOW } from '../claim-window.js';
import type { ClaimQuery, SqlDialect } from '../dialect.js';
import { CLAIM_COLUMNS, CLAIM_ENDPOINT_ID, CLAIM_MESSAGE_ID } from '../rows.js';
import type { SqlExecutor } from '../sql.js';
import type { SqliteExecutor } from './sqlite-executor.js';

/**
 * A claim that skips endpoints (at their cap, or waiting for their rate limit). Filtering them out of the due-order
 * scan would walk through every due row they have: with a slow endpoint's 200,000 due deliveries at the head of the
 * queue that took 90 ms per claim, on the event loop, for every tenant. So the scan looks at the first
 * SKIP_WINDOW due rows only; when those are not enough and the window was full, the other endpoints' due rows are
 * looked up in their own queues (index deliveries_endpoint_due): the endpoints that have pending or sending rows are
 * listed by stepping through that index (one seek per endpoint), at most SKIP_ENDPOINTS per claim, starting where the
 * last such claim stopped so that every endpoint gets its turn.
 */
async function claimSkipping(tx: SqlExecutor, claim: ClaimQuery): Promise<unknown[][]> {
  const excluded = JSON.stringify(claim.excludeEndpoints);
  const rows = await tx.allRaw(
    `SELECT ${CLAIM_COLUMNS}
     FROM (SELECT * FROM deliveries WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1
           ORDER BY next_attempt_at LIMIT $4) d
     JOIN messages m ON m.id = d.message_id
     WHERE d.endpoint_id NOT IN (SELECT value FROM json_each($2))
     ORDER BY d.next_attempt_at
     LIMIT $3`,
    [claim.now, excluded, claim.limit, SKIP_WINDOW],
  );
  if (rows.length >= claim.limit || !(await dueWindowFull(tx, claim.now))) return rows;

  const skip = new Set(claim.excludeEndpoints);
  for (const row of rows) skip.add(String(row[CLAIM_ENDPOINT_ID]));
  const endpoints = await tx.all<{ id: string }>(
    `WITH RECURSIVE e(id) AS (
       SELECT (SELECT MIN(endpoint_id) FROM deliveries INDEXED BY deliveries_endpoint_due
               WHERE status IN ('pending', 'sending') AND endpoint_id > $1)
       UNION ALL
       SELECT (SELECT MIN(endpoint_id) FROM deliveries INDEXED BY deliveries_endpoint_due
               WHERE status IN ('pending', 'sending') AND endpoint_id > e.id)
       FROM e WHERE e.id IS NOT NULL
     )
     SELECT id FROM e WHERE id IS NOT NULL LIMIT $2`,
    [skipCursor, SKIP_ENDPOINTS],
  );
  // Next time, go on from here; after the last endpoint, start again from the first.
  skipCursor = endpoints.length < SKIP_ENDPOINTS ? '' : endpoints.at(-1)!.id;
  for (const { id } of endpoints) {
    if (rows.length >= claim.limit) break;
    if (skip.has(id)) continue;
    rows.push(...await tx.allRaw(
      `SELECT ${CLAIM_COLUMNS}
       FROM deliveries d INDEXED BY deliveries_endpoint_due JOIN messages m ON m.id = d.message_id
       WHERE d.endpoint_id = $1 AND d.status IN ('pending', 'sending') AND d.next_attempt_at <= $2
       ORDER BY d.next_attempt_at
       LIMIT $3`,
      [id, claim.now, claim.limit - rows.length],
    ));
  }
  return rows;
}

/** Endpoints one such claim looks at, at most. */
const SKIP_ENDPOINTS = 500;
// Where the last claim that went endpoint by endpoint stopped (one writer per SQLite database, in this process).
let skipCursor = '';

/**
 * The text of a padded VALUES relation, built once per shape: the same string object each time, so that the executor's
 * statement cache finds it without hashing a text of thousands of placeholders again (V8 keeps a string's hash).
 */
const valuesTexts = new WeakMap<object, Map<string, string>>();
function valuesSql(alias: string, columns: ReadonlyArray<readonly [string, string]>, firstParam: number, padded: number): string {
  let texts = valuesTexts.get(columns);
  if (!texts) valuesTexts.set(columns, (texts = new Map()));
  const key = `${alias} ${firstParam} ${padded}`;
  let sql = texts.get(key);
  if (sql === undefined) {
    let param = firstParam;
    const values = Array.from({ length: padded }, () => `(${columns.map(() => `$${param++}`).join(', ')})`).join(', ');
    const names = columns.map(([name], index) => `column${index + 1} AS ${name}`).join(', ');
    sql = `(SELECT ${names} FROM (VALUES ${values}) WHERE column1 IS NOT NULL) AS ${alias}`;
    texts.set(key, sql);
  }
  return sql;
}

export function sqliteDialect(executor: SqliteExecutor): SqlDialect {
  return {
    inList: (column, param) => `${column} IN (SELECT value FROM json_each($${param}))`,
    listParam: (values) => JSON.stringify(values),
    // One writer at a time in SQLite, so reading the due rows and then updating each by its key is an atomic claim.
    // This costs about half of one `UPDATE … WHERE (key) IN (subquery) RETURNING *` plus a second read of the
    // payloads (measured: 11 µs vs 19 µs per delivery), and a second UPDATE … WHERE (key) IN (the same due subquery)
    // after the read was no faster either (17-20 µs vs 15-16 µs per claimed row). Expired leases ('sending' rows whose next_attempt_at
    // passed) are claimable like due pending rows.
    claimDeliveries: async (tx, claim) => {
      const rows = claim.excludeEndpoints.length === 0 ? await tx.allRaw(
        `SELECT ${CLAIM_COLUMNS}
         FROM deliveries d JOIN messages m ON m.id = d.message_id
         WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= $1
         ORDER BY d.next_attempt_at
         LIMIT $2`,
        [claim.now, claim.limit],
      ) : await claimSkipping(tx, claim);
      for (const row of rows) {
        await tx.run(
          `UPDATE deliveries SET status = 'sending', next_attempt_at = $3, lease_owner = $4, updated_at = $5
           WHERE message_id = $1 AND endpoint_id = $2`,
          [row[CLAIM_MESSAGE_ID], row[CLAIM_ENDPOINT_ID], claim.leaseUntil, claim.owner, claim.now],
        );
      }
      return rows;
    },
    claimJobs: async (tx, claim) => {
      const rows = await tx.all<Record<string, unknown>>(
        `SELECT r.*, j.attempts + 1 AS job_attempts, j.created_at AS job_queued_at FROM jobs j JOIN requests r ON r.id = j.request_id
         WHERE j.next_attempt_at <= $1 ORDER BY j.next_attempt_at LIMIT $2`,
        [claim.now, claim.limit],
      );
      for (const row of rows) {
        await tx.run(
          `UPDATE jobs SET status = 'running', next_attempt_at = $2, lease_owner = $3, attempts = attempts + 1 WHERE request_id = $1`,
          [row.id, claim.leaseUntil, claim.owner],
        );
        await tx.run(`UPDATE requests SET processing_status = 'running' WHERE id = $1`, [row.id]);
        row.processing_status = 'running';
      }
      return rows;
    },
    jsonFieldEquals: (column, pathParam, valueParam) => `json_extract(${column}, $${pathParam}) IS json_extract($${valueParam}, '$')`,
    jsonPathParam: (path) => `$${path.map((segment) => `."${segment}"`).join('')}`,
    jsonArrayHas: (column, param) => `EXISTS (SELECT 1 FROM json_each(${column}) WHERE value = $${param})`,
    // A VALUES list: measured faster than parsing one JSON parameter (12 vs 18 µs per recorded attempt). Each length of
    // list is a statement of its own to prepare (a long one costs milliseconds: 5% of a delivery worker's CPU went to
    // preparing outcome batches of ever new sizes), so lists are padded to the next power of two with rows of NULLs,
    // which the relation leaves out (its first column is a key, never NULL): at most 9 statements per call site.
    rows: (alias, columns, firstParam, rows) => {
      const padded = 2 ** Math.ceil(Math.log2(Math.max(1, rows.length)));
      const width = columns.length;
      const params = new Array<unknown>(padded * width).fill(null);
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        for (let c = 0; c < width; c++) params[r * width + c] = row[c] ?? null;
      }
      return { sql: valuesSql(alias, columns, firstParam, padded), params };
    },
    runScript: async (_tx: SqlExecutor, sql: string) => executor.execScript(sql),
    keepRows: '',
  };
}
