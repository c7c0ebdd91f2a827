import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HookyardError, notFound } from '../errors.js';
import type { EndpointInput } from '../domain/endpoints.js';
import { exampleFor } from '../domain/schema-example.js';
import type { Services } from '../services.js';
import type { App, Endpoint, Json } from '../store/store.js';
import { visibleApp } from './auth.js';
import { listResponse, pageQuery, type ListQuery } from './pagination.js';
import { endpointBody, errorResponses, listOf, listQuery, NAME_PATTERN, ref } from './schemas.js';
import { attemptJson, endpointJson, messageJson } from './serialize.js';

const epParams = {
  type: 'object',
  required: ['app', 'ep'],
  properties: { app: { type: 'string', maxLength: 256 }, ep: { type: 'string', maxLength: 64 } },
} as const;
const appParams = { type: 'object', required: ['app'], properties: { app: { type: 'string', maxLength: 256 } } } as const;
const secretResponse = { type: 'object', properties: { key: { type: 'string' } } } as const;

type EpRequest = FastifyRequest<{ Params: { app: string; ep: string } }>;

export function endpointRoutes(api: FastifyInstance, { store, endpoints, messages, signal }: Services): void {
  async function load(request: EpRequest): Promise<{ app: App; endpoint: Endpoint }> {
    const app = await visibleApp(store, request, request.params.app);
    const endpoint = await store.getEndpoint(app.id, request.params.ep);
    if (!endpoint) throw notFound('endpoint');
    return { app, endpoint };
  }

  api.post<{ Params: { app: string }; Body: EndpointInput & { url: string } }>(
    '/api/v1/apps/:app/endpoints',
    {
      schema: {
        tags: ['endpoints'],
        summary: 'Create an endpoint; no eventTypes = every event',
        params: appParams,
        body: { ...endpointBody, required: ['url'] },
        response: { 201: ref('Endpoint'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const app = await visibleApp(store, request, request.params.app);
      const { endpoint } = await endpoints.create(app.id, request.body);
      return reply.code(201).send(endpointJson(endpoint));
    },
  );

  api.get<{ Params: { app: string }; Querystring: ListQuery }>(
    '/api/v1/apps/:app/endpoints',
    { schema: { tags: ['endpoints'], summary: "List an app's endpoints", params: appParams, querystring: listQuery, response: { 200: listOf('Endpoint'), ...errorResponses } } },
    async (request) => {
      const app = await visibleApp(store, request, request.params.app);
      return listResponse(await store.listEndpoints(app.id, pageQuery(request.query)), endpointJson);
    },
  );

  api.get<{ Params: { app: string; ep: string } }>(
    '/api/v1/apps/:app/endpoints/:ep',
    { schema: { tags: ['endpoints'], summary: 'Get an endpoint', params: epParams, response: { 200: ref('Endpoint'), ...errorResponses } } },
    async (request) => endpointJson((await load(request)).endpoint),
  );

  api.patch<{ Params: { app: string; ep: string }; Body: EndpointInput }>(
    '/api/v1/apps/:app/endpoints/:ep',
    { schema: { tags: ['endpoints'], summary: 'Update an endpoint (disabled: false re-enables it)', params: epParams, body: endpointBody, response: { 200: ref('Endpoint'), ...errorResponses } } },
    async (request) => {
      const { app } = await load(request);
      const updated = await endpoints.update(app.id, request.params.ep, request.body);
      if (!updated) throw notFound('endpoint');
      return endpointJson(updated);
    },
  );

  api.delete<{ Params: { app: string; ep: string } }>(
    '/api/v1/apps/:app/endpoints/:ep',
    { schema: { tags: ['endpoints'], summary: 'Delete an endpoint', params: epParams, response: errorResponses } },
    async (request, reply) => {
      const { app, endpoint } = await load(request);
      await store.deleteEndpoint(app.id, endpoint.id);
      return reply.code(204).send();
    },
  );

  api.get<{ Params: { app: string; ep: string } }>(
    '/api/v1/apps/:app/endpoints/:ep/secret',
    { schema: { tags: ['endpoints'], summary: "The endpoint's current signing secret", params: epParams, response: { 200: secretResponse, ...errorResponses } } },
    async (request) => {
      const { endpoint } = await load(request);
      const [current] = await store.getActiveSecrets(endpoint.id, Date.now());
      return { key: current };
    },
  );

  api.post<{ Params: { app: string; ep: string }; Body: { key?: string } | undefined }>(
    '/api/v1/apps/:app/endpoints/:ep/secret/rotate',
    {
      schema: {
        tags: ['endpoints'],
        summary: 'Rotate the signing secret; the previous one keeps signing beside it for 24 h',
        params: epParams,
        body: { type: ['object', 'null'], additionalProperties: false, properties: { key: { type: 'string', maxLength: 256 } } },
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const { endpoint } = await load(request);
      await endpoints.rotateSecret(endpoint.id, request.body?.key);
      return reply.code(204).send();
    },
  );

  api.post<{ Params: { app: string; ep: string }; Body: { since: string; until?: string } }>(
    '/api/v1/apps/:app/endpoints/:ep/recover',
    {
      schema: {
        tags: ['endpoints'],
        summary: 'Re-send every failed message of a time window to this endpoint',
        params: epParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['since'],
          properties: { since: { type: 'string', format: 'date-time' }, until: { type: 'string', format: 'date-time' } },
        },
        response: { 202: { type: 'object', properties: { status: { type: 'string' }, count: { type: 'integer' } } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { app, endpoint } = await load(request);
      if (endpoint.disabled) throw new HookyardError('conflict', 'the endpoint is disabled: enable it (PATCH disabled: false) before recovering');
      const now = Date.now();
      const since = Date.parse(request.body.since);
      const until = request.body.until === undefined ? now + 1 : Date.parse(request.body.until);
      if (until <= since) throw new HookyardError('validation_error', 'until must be after since', [{ path: '/body/until', message: 'must be after since' }]);
      const count = await store.recoverDeliveries(app.id, endpoint.id, since, until, now);
      if (count > 0) signal.notify();
      return reply.code(202).send({ status: 'queued', count });
    },
  );

  api.post<{ Params: { app: string; ep: string }; Body: { eventType: string; payload?: Json } }>(
    '/api/v1/apps/:app/endpoints/:ep/test',
    {
      schema: {
        tags: ['endpoints'],
        summary: "Send a test event to this endpoint only, whatever its filters: the event type's example payload unless one is given",
        params: epParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['eventType'],
          properties: { eventType: { type: 'string', minLength: 1, maxLength: 256, pattern: NAME_PATTERN }, payload: { type: 'object' } },
        },
        response: { 202: ref('Message'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { app, endpoint } = await load(request);
      if (endpoint.disabled) throw new HookyardError('conflict', 'the endpoint is disabled: enable it before sending it a test event');
      const eventType = await store.getEventType(request.body.eventType);
      const payload = request.body.payload ?? exampleFor(eventType?.schema ?? null) ?? {};
      const message = await messages.send(app, { eventType: request.body.eventType, payload }, { onlyEndpoint: endpoint.id });
      return reply.code(202).send(messageJson(message));
    },
  );

  api.get<{ Params: { app: string; ep: string }; Querystring: ListQuery }>(
    '/api/v1/apps/:app/endpoints/:ep/attempts',
    { schema: { tags: ['attempts'], summary: "An endpoint's attempts, newest first", params: epParams, querystring: listQuery, response: { 200: listOf('Attempt'), ...errorResponses } } },
    async (request) => {
      const { app, endpoint } = await load(request);
      return listResponse(await store.listAttempts(app.id, { endpointId: endpoint.id }, pageQuery(request.query)), attemptJson);
    },
  );
}
