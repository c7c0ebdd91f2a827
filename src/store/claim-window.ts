import type { SqlExecutor } from './sql.js';

/**
 * Due rows a claim that skips endpoints (at their cap, or waiting for their rate limit) reads in due order before it
 * looks endpoint by endpoint (see the dialects' claimSkipping).
 */
export const SKIP_WINDOW = 1_000;

/** Whether the window was full: with fewer due rows than it holds, a scan of it saw every due row there is. */
export async function dueWindowFull(tx: SqlExecutor, now: number): Promise<boolean> {
  const [window] = await tx.all<{ n: number | string }>(
    `SELECT COUNT(*) AS n FROM (SELECT 1 FROM deliveries WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1
     ORDER BY next_attempt_at LIMIT $2) w`,
    [now, SKIP_WINDOW],
  );
  return Number(window!.n) >= SKIP_WINDOW;
}
