import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';

export function systemRoutes(api: FastifyInstance, { store, metrics, logger }: Services): void {
  api.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Liveness and database reachability',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } }, 503: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async (_request, reply) => {
      try {
        await store.ping();
        return { status: 'ok' };
      } catch (err) {
        logger.error({ err }, 'health check: database unreachable');
        return reply.code(503).send({ status: 'unavailable' });
      }
    },
  );

  api.get('/metrics', { schema: { tags: ['system'], summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
