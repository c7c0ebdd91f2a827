import type { FastifyInstance } from 'fastify';
import { HookyardError } from '../../errors.js';
import { newId } from '../../ids.js';
import type { Services } from '../../services.js';
import { notSupported } from './errors.js';
import { epParams, loadEndpoint } from './endpoints.js';

const tags = ['svix'];
const MAX_GRACE_SECONDS = 86_400;
const windowBody = {
  type: 'object',
  additionalProperties: false,
  required: ['since'],
  properties: { since: { type: 'string', format: 'date-time' }, until: { type: ['string', 'null'], format: 'date-time' } },
} as const;

/** An endpoint's secret, recovery and statistics, as the Svix API shapes them. */
export function endpointActionRoutes(api: FastifyInstance, services: Services): void {
  const { store, endpoints, signal } = services;

  api.get<{ Params: { app_id: string; endpoint_id: string } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/secret',
    { schema: { tags, summary: "Svix: the endpoint's current signing secret", params: epParams } },
    async (request) => {
      const { endpoint } = await loadEndpoint(services, request);
      const [current] = await store.getActiveSecrets(endpoint.id, Date.now());
      return { key: current };
    },
  );

  api.post<{ Params: { app_id: string; endpoint_id: string }; Body: { key?: string | null; gracePeriodSeconds?: number | null } | undefined }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/secret/rotate',
    {
      schema: {
        tags,
        summary: 'Svix: rotate the signing secret; the previous one keeps signing beside it for the grace period (default 24 h)',
        params: epParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { key: { type: ['string', 'null'], maxLength: 256 }, gracePeriodSeconds: { type: ['integer', 'null'], minimum: 0, maximum: MAX_GRACE_SECONDS } },
        },
      },
    },
    async (request, reply) => {
      const { endpoint } = await loadEndpoint(services, request);
      const grace = request.body?.gracePeriodSeconds ?? MAX_GRACE_SECONDS;
      await endpoints.rotateSecret(endpoint.id, request.body?.key ?? undefined, Date.now(), grace * 1000);
      return reply.code(204).send();
    },
  );

  api.post<{ Params: { app_id: string; endpoint_id: string }; Body: { since: string; until?: string | null } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/recover',
    { schema: { tags, summary: 'Svix: re-send the failed messages of a time window to this endpoint', params: epParams, body: windowBody } },
    async (request, reply) => {
      const { app, endpoint } = await loadEndpoint(services, request);
      if (endpoint.disabled) throw new HookyardError('conflict', 'the endpoint is disabled: enable it (disabled: false) before recovering');
      const now = Date.now();
      const since = Date.parse(request.body.since);
      const until = request.body.until == null ? now + 1 : Date.parse(request.body.until);
      if (until <= since) throw new HookyardError('validation_error', 'until must be after since', [{ path: '/body/until', message: 'must be after since' }]);
      const count = await store.recoverDeliveries(app.id, endpoint.id, since, until, now);
      if (count > 0) signal.notify();
      // The re-queueing is done before the answer, so the "background task" has finished; it cannot be fetched later.
      return reply.code(202).send({ id: newId('qtask', now), status: 'finished', task: 'endpoint.recover', updatedAt: new Date(now).toISOString() });
    },
  );

  api.post<{ Params: { app_id: string; endpoint_id: string } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/replay-missing',
    { schema: { tags, summary: 'Svix: replay missing messages (not supported: use recover, or resend per message)', params: epParams } },
    async (request) => {
      await loadEndpoint(services, request);
      throw notSupported('replay-missing (use recover for failed messages, or resend one message to this endpoint)');
    },
  );

  api.get<{ Params: { app_id: string; endpoint_id: string }; Querystring: { since?: string; until?: string } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/stats',
    {
      schema: {
        tags,
        summary: "Svix: the endpoint's deliveries per status (of those created in [since, until) when given)",
        params: epParams,
        querystring: { type: 'object', properties: { since: { type: 'string', format: 'date-time' }, until: { type: 'string', format: 'date-time' } } },
      },
    },
    async (request) => {
      const { app, endpoint } = await loadEndpoint(services, request);
      const { since, until } = request.query;
      const counts = await store.endpointDeliveryCounts(app.id, endpoint.id, {
        since: since === undefined ? undefined : Date.parse(since),
        until: until === undefined ? undefined : Date.parse(until),
      });
      return { success: counts.succeeded, fail: counts.failed, pending: counts.pending, sending: counts.sending, canceled: 0 };
    },
  );
}
