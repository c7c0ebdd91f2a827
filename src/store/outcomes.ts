import { one, type SqlExecutor } from './sql.js';
import type { DeliveryOutcome, OutcomeEffects } from './store.js';

/**
 * Writes a batch of attempt results in the caller's transaction: the attempt rows, the deliveries' next state, and the
 * endpoints' failure streaks. An endpoint is disabled here (410, or failing for longer than `disableAfterMs`) with a
 * conditional UPDATE, so that each disable is reported exactly once even with several workers.
 */
export async function recordOutcomes(
  tx: SqlExecutor,
  outcomes: readonly DeliveryOutcome[],
  opts: { now: number; disableAfterMs: number; owner?: string },
): Promise<OutcomeEffects> {
  const effects: OutcomeEffects = { disabledEndpoints: [] };
  const lastByEndpoint = new Map<string, DeliveryOutcome>();
  for (const outcome of outcomes) {
    const { attempt, next } = outcome;
    await tx.run(
      `INSERT INTO attempts (id, message_id, endpoint_id, app_id, url, status, response_status_code, response, error,
         duration_ms, attempt, trigger, created_at, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        attempt.id, attempt.messageId, attempt.endpointId, attempt.appId, attempt.url, attempt.status,
        attempt.responseStatusCode, attempt.response, attempt.error, attempt.durationMs, attempt.attempt, attempt.trigger,
        attempt.createdAt, attempt.nextAttemptAt,
      ],
    );
    // Guarded by the lease: a worker whose lease ran out (and whose delivery another worker took) must not overwrite it.
    await tx.run(
      `UPDATE deliveries SET status = $3, attempts = $4, schedule_pos = $5, next_attempt_at = $6, exhausted_at = $7,
         last_error = $8, lease_owner = NULL, next_trigger = 'scheduled',
         single_shot = CASE WHEN $3 = 'pending' THEN single_shot ELSE 0 END, updated_at = $9
       WHERE message_id = $1 AND endpoint_id = $2 AND status = 'sending' AND (CAST($10 AS TEXT) IS NULL OR lease_owner = $10)`,
      [
        attempt.messageId, attempt.endpointId, next.status, next.attempts, next.schedulePos, next.nextAttemptAt,
        next.exhaustedAt, next.lastError, opts.now, opts.owner ?? null,
      ],
    );
    lastByEndpoint.set(attempt.endpointId, outcome);
  }

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
