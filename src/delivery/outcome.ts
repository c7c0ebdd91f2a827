import { newId } from '../ids.js';
import type { ClaimedDelivery, DeliveryOutcome } from '../store/store.js';
import { nextRetryDelay, parseRetryAfter } from './schedule.js';

/** What one HTTP try produced, before the delivery rules are applied. */
export type SendResult =
  | { kind: 'response'; statusCode: number; headers: Record<string, string>; body: string; durationMs: number }
  | { kind: 'error'; error: string; durationMs: number };

export interface OutcomeRules {
  retrySchedule: readonly number[];
  random?: () => number;
}

/**
 * The delivery state machine for one finished attempt: 2xx succeeds; 410 fails and disables the endpoint; anything
 * else retries on the schedule (Retry-After on 429/503 decides the delay), until the schedule is exhausted.
 */
export function decideOutcome(delivery: ClaimedDelivery, url: string, result: SendResult, now: number, rules: OutcomeRules): DeliveryOutcome {
  const attemptNumber = delivery.attempts + 1;
  const schedulePos = delivery.schedulePos + 1;
  const statusCode = result.kind === 'response' ? result.statusCode : null;
  const success = statusCode !== null && statusCode >= 200 && statusCode < 300;
  const gone = statusCode === 410;
  const error = result.kind === 'error' ? result.error : success ? null : `HTTP ${statusCode}`;

  let nextAttemptAt: number | null = null;
  if (!success && !gone && !delivery.singleShot) {
    const scheduled = nextRetryDelay(rules.retrySchedule, schedulePos, rules.random);
    if (scheduled !== null) {
      const retryAfter =
        result.kind === 'response' && (statusCode === 429 || statusCode === 503) ? parseRetryAfter(result.headers['retry-after'], now) : null;
      nextAttemptAt = now + (retryAfter ?? scheduled);
    }
  }
  const status = success ? 'succeeded' : nextAttemptAt !== null ? 'pending' : 'failed';
  const exhausted = status === 'failed' && !gone && !delivery.singleShot;

  return {
    attempt: {
      id: newId('atmpt', now),
      messageId: delivery.messageId,
      endpointId: delivery.endpointId,
      appId: delivery.appId,
      url,
      status: success ? 'success' : 'failed',
      responseStatusCode: statusCode,
      response: result.kind === 'response' ? result.body : '',
      error,
      durationMs: Math.round(result.durationMs),
      attempt: attemptNumber,
      trigger: delivery.nextTrigger,
      createdAt: now,
      nextAttemptAt,
    },
    next: {
      status,
      attempts: attemptNumber,
      schedulePos,
      nextAttemptAt,
      exhaustedAt: exhausted ? now : success ? null : delivery.exhaustedAt,
      lastError: error,
    },
    endpoint: success ? 'success' : gone ? 'gone' : 'failure',
  };
}
