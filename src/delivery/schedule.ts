const JITTER = 0.2;
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/**
 * Delay before the next scheduled attempt, or null when the schedule is exhausted.
 * `attemptsInSchedule` counts attempts already made in this run of the schedule (the first is immediate).
 */
export function nextRetryDelay(
  schedule: readonly number[],
  attemptsInSchedule: number,
  random: () => number = Math.random,
): number | null {
  const base = schedule[attemptsInSchedule - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

/** Retry-After as delta-seconds or an HTTP date; null when absent or unparsable. Capped at 24 h. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return null;
    ms = date - now;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}
