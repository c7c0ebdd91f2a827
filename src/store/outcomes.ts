import type { SqlDialect } from './dialect.js';
import { advanceFifo } from './fifo.js';
import { one, type SqlExecutor } from './sql.js';
import type { DeliveryOutcome, OutcomeEffects } from './store.js';

const ATTEMPT_COLUMNS = [
  ['id', 'text'], ['message_id', 'text'], ['endpoint_id', 'text'], ['app_id', 'text'], ['url', 'text'], ['status', 'text'],
  ['response_status_code', 'bigint'], ['response', 'text'], ['error', 'text'], ['duration_ms', 'bigint'], ['attempt', 'bigint'],
  ['trigger', 'text'], ['created_at', 'bigint'], ['next_attempt_at', 'bigint'],
] as const;
const NEXT_COLUMNS = [
  ['message_id', 'text'], ['endpoint_id', 'text'], ['status', 'text'], ['attempts', 'bigint'], ['schedule_pos', 'bigint'],
  ['next_attempt_at', 'bigint'], ['exhausted_at', 'bigint'], ['last_error', 'text'],
] as const;

/**
 * Writes a batch of attempt results in the caller's transaction: the attempt rows, the deliveries' next state, and the
 * endpoints' failure streaks. An endpoint is disabled here (410, or failing for longer than `disableAfterMs`) with a
 * conditional UPDATE, so that each disable is reported exactly once even with several workers.
 */
export async function recordOutcomes(
  tx: SqlExecutor,
  sql: SqlDialect,
  outcomes: readonly DeliveryOutcome[],
  opts: { now: number; disableAfterMs: number; owner?: string },
): Promise<OutcomeEffects> {
  const effects: OutcomeEffects = { disabledEndpoints: [], fifoAdvanced: 0 };
  if (outcomes.length === 0) return effects;
  // Two statements for the whole batch: the attempt rows, then the deliveries' next state.
  const attempts = sql.rows('a', ATTEMPT_COLUMNS, 1, outcomes.map(({ attempt: a }) => [
    a.id, a.messageId, a.endpointId, a.appId, a.url, a.status, a.responseStatusCode, a.response, a.error, a.durationMs, a.attempt,
    a.trigger, a.createdAt, a.nextAttemptAt,
  ]));
  // Only attempts whose delivery still exists: an endpoint or app deleted while its attempt was in flight takes its
  // deliveries with it. The delivery rows are held until commit, so that such a delete, which removes the deliveries
  // first and then the attempts, waits for this batch and removes its attempts too: on PostgreSQL the attempt log has
  // no foreign keys to do that (migration 0010), and on SQLite an orphan would break one and roll back every other
  // tenant's outcome in the batch.
  await tx.run(
    `INSERT INTO attempts (${ATTEMPT_COLUMNS.map(([name]) => name).join(', ')})
     SELECT ${ATTEMPT_COLUMNS.map(([name]) => `a.${name}`).join(', ')} FROM ${attempts.sql}
     WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = a.message_id AND d.endpoint_id = a.endpoint_id${sql.keepRows})`,
    attempts.params,
  );
  // Guarded by the lease: a worker whose lease ran out (and whose delivery another worker took) must not overwrite it.
  // The guard is a CASE so that no planner can match `status = 'sending'` to the partial due indexes: PostgreSQL,
  // estimating one row there, walked an endpoint's due rows and rescanned the whole batch for each of them (115 × 40
  // rows, a whole-row copy each: 12% of the server's CPU end to end); through the primary key it is one lookup a row.
  const next = sql.rows('r', NEXT_COLUMNS, 3, outcomes.map(({ attempt: a, next: n }) => [
    a.messageId, a.endpointId, n.status, n.attempts, n.schedulePos, n.nextAttemptAt, n.exhaustedAt, n.lastError,
  ]));
  await tx.run(
    `UPDATE deliveries AS d SET status = r.status, attempts = r.attempts, schedule_pos = r.schedule_pos,
       next_attempt_at = r.next_attempt_at, exhausted_at = r.exhausted_at, last_error = r.last_error, lease_owner = NULL,
       next_trigger = 'scheduled', single_shot = CASE WHEN r.status = 'pending' THEN d.single_shot ELSE 0 END, updated_at = $1
     FROM ${next.sql}
     WHERE d.message_id = r.message_id AND d.endpoint_id = r.endpoint_id
       AND CASE WHEN d.status = 'sending' THEN CAST($2 AS TEXT) IS NULL OR d.lease_owner = $2 ELSE 0 = 1 END`,
    [opts.now, opts.owner ?? null, ...next.params],
  );
  // A finished delivery lets the next message of a FIFO endpoint go (a no-op read for the others).
  const finished = outcomes.filter(({ next: n }) => n.status !== 'pending').map(({ attempt }) => attempt.endpointId);
  if (finished.length > 0) effects.fifoAdvanced = await advanceFifo(tx, sql, finished, opts.now);
  const lastByEndpoint = new Map<string, DeliveryOutcome>();
  for (const outcome of outcomes) lastByEndpoint.set(outcome.attempt.endpointId, outcome);

  for (const [endpointId, outcome] of lastByEndpoint) {
    if (outcome.endpoint === 'success') {
      await tx.run('UPDATE endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL', [endpointId]);
      continue;
    }
    let reason: string | null = null;
    if (outcome.endpoint === 'gone') {
      reason = 'gone';
    } else {
      await tx.run('UPDATE endpoints SET failing_since = $2 WHERE id = $1 AND failing_since IS NULL', [endpointId, outcome.attempt.createdAt]);
      const row = await one<Record<string, unknown>>(tx, 'SELECT failing_since FROM endpoints WHERE id = $1 AND disabled = 0', [endpointId]);
      if (row && Number(row.failing_since) <= opts.now - opts.disableAfterMs) reason = 'failing';
    }
    if (reason === null) continue;
    const changed = await tx.run(
      'UPDATE endpoints SET disabled = 1, disabled_reason = $2, updated_at = $3 WHERE id = $1 AND disabled = 0',
      [endpointId, reason, opts.now],
    );
    if (changed > 0) {
      await failPendingDeliveries(tx, endpointId, opts.now);
      effects.disabledEndpoints.push({ endpointId, appId: outcome.attempt.appId, reason });
    }
  }
  return effects;
}

export async function failPendingDeliveries(tx: SqlExecutor, endpointId: string, now: number): Promise<void> {
  await tx.run(
    `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, last_error = 'endpoint disabled', updated_at = $2
     WHERE endpoint_id = $1 AND status = 'pending'`,
    [endpointId, now],
  );
}
