import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';
import { requireAdmin } from './auth.js';
import { errorResponses } from './schemas.js';

const MINUTE = 60_000;
const WINDOW_MINUTES = 60;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The dashboard overview: the last hour per minute, the queues, and the endpoints that are failing. Admin only. */
export function statsRoutes(api: FastifyInstance, { store }: Services): void {
  api.get('/api/v1/stats', { schema: { tags: ['system'], summary: 'Activity of the last hour, queue depths and failing endpoints', response: errorResponses } }, async (request) => {
    requireAdmin(request);
    const now = Date.now();
    const first = Math.floor(now / MINUTE) * MINUTE - (WINDOW_MINUTES - 1) * MINUTE;
    const [activity, queue, jobs] = await Promise.all([store.activityStats(first), store.queueDepth(), store.jobDepth()]);
    const minutes = Array.from({ length: WINDOW_MINUTES }, (_, i) => {
      const minute = first + i * MINUTE;
      const attempts = activity.attempts.filter((a) => a.minute === minute);
      return {
        minute: iso(minute),
        requests: activity.requests.find((r) => r.minute === minute)?.count ?? 0,
        deliveries: {
          success: attempts.find((a) => a.status === 'success')?.count ?? 0,
          failed: attempts.find((a) => a.status === 'failed')?.count ?? 0,
        },
      };
    });
    const success = minutes.reduce((sum, m) => sum + m.deliveries.success, 0);
    const failed = minutes.reduce((sum, m) => sum + m.deliveries.failed, 0);
    return {
      minutes,
      queue,
      jobs,
      successRate: success + failed === 0 ? null : success / (success + failed),
      failingEndpoints: activity.failingEndpoints.map((e) => ({
        id: e.id, appId: e.appId, url: e.url, failingSince: iso(e.failingSince), disabled: e.disabled, disabledReason: e.disabledReason,
      })),
    };
  });
}
