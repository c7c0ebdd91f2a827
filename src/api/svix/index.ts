import type { FastifyInstance } from 'fastify';
import { HookyardError } from '../../errors.js';
import type { Services } from '../../services.js';
import type { Authenticator } from '../auth.js';
import { applicationRoutes } from './applications.js';
import { attemptRoutes } from './attempts.js';
import { authRoutes } from './auth.js';
import { endpointActionRoutes } from './endpoint-actions.js';
import { endpointRoutes } from './endpoints.js';
import { notSupported, svixErrorHandler } from './errors.js';
import { eventTypeRoutes } from './event-types.js';
import { messageRoutes } from './messages.js';

// Paths of the Svix API beside the supported routes: every other call an SDK makes there is answered not_supported.
// None overlaps Hookyard's own routes (/api/v1/apps, /api/v1/event-types, /api/v1/stats …).
export const SVIX_PREFIXES = [
  '/api/v1/app/*', '/api/v1/event-type/*', '/api/v1/auth/*', '/api/v1/background-task', '/api/v1/background-task/*', '/api/v1/connector',
  '/api/v1/connector/*', '/api/v1/environment/*', '/api/v1/operational-webhook/*', '/api/v1/stats/*', '/api/v1/stream', '/api/v1/stream/*',
  '/ingest/api/v1/*',
];

/**
 * The Svix-compatible API (docs/svix-compat.md): Svix's paths and JSON over Hookyard's own store, services and
 * tokens, so that the official Svix SDKs can be pointed at Hookyard. Encapsulated for its own error shapes.
 */
export async function svixRoutes(app: FastifyInstance, services: Services, auth: Authenticator): Promise<void> {
  await app.register(async (svix) => {
    svix.setErrorHandler(svixErrorHandler);
    applicationRoutes(svix, services);
    eventTypeRoutes(svix, services);
    endpointRoutes(svix, services);
    endpointActionRoutes(svix, services);
    messageRoutes(svix, services, auth);
    attemptRoutes(svix, services);
    authRoutes(svix, services);

    svix.get('/api/v1/health', { schema: { tags: ['svix'], summary: 'Svix: health (204 while the database answers)' } }, async (request, reply) => {
      try {
        await services.store.ping();
      } catch (err) {
        request.log.error({ err }, 'health check: database unreachable');
        throw new HookyardError('unavailable', 'the database is unreachable');
      }
      return reply.code(204).send();
    });

    for (const url of SVIX_PREFIXES) {
      svix.all(url, { schema: { hide: true } }, async (request) => {
        throw notSupported(`the Svix call ${request.method} ${request.url.split('?')[0]}`);
      });
    }
  });
}
