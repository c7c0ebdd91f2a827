import type { SqlDialect } from './dialect.js';
import type { SqlExecutor } from './sql.js';

/**
 * FIFO endpoints: one delivery at a time, in the order the messages were accepted.
 *
 * The head of a FIFO endpoint's queue is an ordinary delivery (pending with a due time, or sending). Every other
 * unfinished delivery of the endpoint is *parked*: pending with next_attempt_at NULL, which no claim matches (claims
 * ask for next_attempt_at <= now) and no due index orders, numbered by fifo_seq from a counter on the endpoint's row.
 * When the head finishes (succeeds, or fails for good), the parked delivery with the lowest number is made due. A
 * failing head keeps its retry schedule and holds the rest.
 *
 * Every write that can make or end a head (a message insert fanning out to the endpoint, an outcome, a resend, a
 * recover, a switch of ordering) first locks the endpoint's row on PostgreSQL, so that two nodes deciding at once
 * cannot both promote and draw the same numbers: the second waits, and its next statement (READ COMMITTED) sees
 * what the first committed. SQLite has one writer at a time, which is the same lock.
 */

const PARK_COLUMNS = [['message_id', 'text'], ['fifo_seq', 'bigint']] as const;
/** Rows per parking statement (SQLite binds at most 32,766 values, padded to a power of two). */
const PARK_SLICE = 4_096;

/** Locks the FIFO endpoints among `endpointIds` (PostgreSQL; in id order, so that writers cannot deadlock) and returns them. */
export async function lockFifoEndpoints(tx: SqlExecutor, sql: SqlDialect, endpointIds: readonly string[]): Promise<string[]> {
  if (endpointIds.length === 0) return [];
  const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
  const rows = await tx.all<{ id: string }>(
    `SELECT id FROM endpoints WHERE ${sql.inList('id', 1)} AND ordering = 'fifo' ORDER BY id${lock}`,
    [sql.listParam([...new Set(endpointIds)])],
  );
  return rows.map((row) => String(row.id));
}

/** Parks these pending deliveries of a locked FIFO endpoint at the end of its queue, in this order, then fills an empty head. */
async function enqueue(tx: SqlExecutor, sql: SqlDialect, endpointId: string, messageIds: readonly string[], now: number): Promise<void> {
  if (messageIds.length > 0) {
    const [counter] = await tx.all<{ fifo_seq: number | string }>(
      'UPDATE endpoints SET fifo_seq = fifo_seq + $2 WHERE id = $1 RETURNING fifo_seq',
      [endpointId, messageIds.length],
    );
    const first = Number(counter!.fifo_seq) - messageIds.length + 1;
    for (let from = 0; from < messageIds.length; from += PARK_SLICE) {
      const rows = sql.rows('p', PARK_COLUMNS, 3, messageIds.slice(from, from + PARK_SLICE).map((id, i) => [id, first + from + i]));
      await tx.run(
        `UPDATE deliveries AS d SET next_attempt_at = NULL, fifo_seq = p.fifo_seq, updated_at = $2
         FROM ${rows.sql}
         WHERE d.endpoint_id = $1 AND d.message_id = p.message_id AND d.status = 'pending'`,
        [endpointId, now, ...rows.params],
      );
    }
  }
  await promoteHead(tx, endpointId, now);
}

/** Makes the first parked delivery due now, unless the endpoint has a head already. Call with the endpoint locked. */
async function promoteHead(tx: SqlExecutor, endpointId: string, now: number): Promise<number> {
  return tx.run(
    `UPDATE deliveries SET next_attempt_at = $2, updated_at = $2
     WHERE endpoint_id = $1 AND status = 'pending' AND next_attempt_at IS NULL
       AND message_id = (SELECT message_id FROM deliveries WHERE endpoint_id = $1 AND status = 'pending' AND next_attempt_at IS NULL
                         ORDER BY fifo_seq LIMIT 1)
       AND NOT EXISTS (SELECT 1 FROM deliveries WHERE endpoint_id = $1 AND status IN ('pending', 'sending') AND next_attempt_at IS NOT NULL)`,
    [endpointId, now],
  );
}

/** After deliveries of these endpoints finished: the FIFO ones among them move on to their next message. Returns how many did. */
export async function advanceFifo(tx: SqlExecutor, sql: SqlDialect, endpointIds: readonly string[], now: number): Promise<number> {
  let promoted = 0;
  for (const endpointId of await lockFifoEndpoints(tx, sql, endpointIds)) promoted += await promoteHead(tx, endpointId, now);
  return promoted;
}

/**
 * Deliveries just made pending and due (written, resent, recovered), in acceptance order: on FIFO endpoints they join
 * the end of the queue instead of going beside its head. A no-op read for other endpoints.
 */
export async function queueBehindHeads(
  tx: SqlExecutor,
  sql: SqlDialect,
  deliveries: ReadonlyArray<{ endpointId: string; messageId: string }>,
  now: number,
): Promise<void> {
  const byEndpoint = new Map<string, string[]>();
  for (const { endpointId, messageId } of deliveries) {
    let ids = byEndpoint.get(endpointId);
    if (!ids) byEndpoint.set(endpointId, (ids = []));
    ids.push(messageId);
  }
  for (const endpointId of await lockFifoEndpoints(tx, sql, [...byEndpoint.keys()])) {
    await enqueue(tx, sql, endpointId, byEndpoint.get(endpointId)!, now);
  }
}

/**
 * An endpoint (its row locked by the caller's UPDATE) switched ordering: to parallel, everything parked is due; to
 * FIFO, its pending deliveries queue in message order and the first is due. Deliveries in flight finish as they are.
 */
export async function reorderEndpoint(tx: SqlExecutor, sql: SqlDialect, endpointId: string, ordering: 'parallel' | 'fifo', now: number): Promise<void> {
  if (ordering === 'parallel') {
    await tx.run(
      `UPDATE deliveries SET next_attempt_at = $2, updated_at = $2 WHERE endpoint_id = $1 AND status = 'pending' AND next_attempt_at IS NULL`,
      [endpointId, now],
    );
    return;
  }
  const pending = await tx.all<{ message_id: string }>(
    `SELECT message_id FROM deliveries WHERE endpoint_id = $1 AND status = 'pending' AND next_attempt_at IS NOT NULL ORDER BY message_id`,
    [endpointId],
  );
  await enqueue(tx, sql, endpointId, pending.map((row) => String(row.message_id)), now);
}
