import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../errors.js';
import type { Services } from '../services.js';
import type { Authenticator } from './auth.js';
import { errorResponses } from './schemas.js';

const webhookObject = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    events: { type: 'array', items: { type: 'string' } },
    url: { type: 'string' },
    signature_secret_key: { type: 'string' },
  },
} as const;

/**
 * Polar AccessLink-style registration (`/v3/webhooks`, Basic auth with an app key's id and token), for clients
 * written against that API. Endpoints made here also get `Polar-Webhook-Signature` and `Polar-Webhook-Event` headers.
 */
export function polarRoutes(api: FastifyInstance, { store, endpoints }: Services, auth: Authenticator): void {
  const appOf = async (request: FastifyRequest): Promise<string> => (await auth.authenticateBasic(request)).appId!;

  api.post<{ Body: { events: string[]; url: string } }>(
    '/v3/webhooks',
    {
      schema: {
        tags: ['polar'],
        summary: 'Register a webhook (Polar AccessLink style)',
        security: [{ basic: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['events', 'url'],
          properties: {
            events: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[a-zA-Z0-9\\-_.:]+$' } },
            url: { type: 'string', minLength: 1, maxLength: 2048 },
          },
        },
        response: { 201: { type: 'object', properties: { data: webhookObject } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const appId = await appOf(request);
      const { endpoint, secret } = await endpoints.create(appId, { url: request.body.url, eventTypes: request.body.events }, 'polar');
      return reply.code(201).send({ data: { id: endpoint.id, events: endpoint.eventTypes, url: endpoint.url, signature_secret_key: secret } });
    },
  );

  api.get(
    '/v3/webhooks',
    { schema: { tags: ['polar'], summary: 'List registered webhooks', security: [{ basic: [] }], response: { 200: { type: 'object', properties: { data: { type: 'array', items: webhookObject } } }, ...errorResponses } } },
    async (request) => {
      const appId = await appOf(request);
      const page = await store.listEndpoints(appId, { limit: 250 });
      return { data: page.data.filter((ep) => ep.flavor === 'polar').map((ep) => ({ id: ep.id, events: ep.eventTypes ?? [], url: ep.url })) };
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/v3/webhooks/:id',
    { schema: { tags: ['polar'], summary: 'Delete a registered webhook', security: [{ basic: [] }], response: errorResponses } },
    async (request, reply) => {
      const appId = await appOf(request);
      if (!(await store.deleteEndpoint(appId, request.params.id))) throw notFound('webhook');
      return reply.code(204).send();
    },
  );
}
