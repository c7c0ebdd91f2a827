import type { FastifyInstance } from 'fastify';
import { checkResourceUrlTemplate } from '../domain/resource-url.js';
import { notFound } from '../errors.js';
import type { Services } from '../services.js';
import type { Json } from '../store/store.js';
import { requireAdmin } from './auth.js';
import { listResponse, pageQuery, type ListQuery } from './pagination.js';
import { errorResponses, eventTypeBody, listOf, listQuery, ref } from './schemas.js';
import { eventTypeJson } from './serialize.js';

interface EventTypeBody {
  name?: string;
  description?: string;
  schema?: Json | null;
  resourceUrlTemplate?: string | null;
}

const nameParams = { type: 'object', properties: { name: { type: 'string', maxLength: 256 } }, required: ['name'] } as const;

export function eventTypeRoutes(api: FastifyInstance, { store, schemas }: Services): void {
  api.post<{ Body: EventTypeBody }>(
    '/api/v1/event-types',
    {
      schema: {
        tags: ['event types'],
        summary: 'Create an event type; its optional JSON Schema validates payloads on send',
        body: { ...eventTypeBody, required: ['name'] },
        response: { 201: ref('EventType'), ...errorResponses },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const { name, description = '', schema = null, resourceUrlTemplate = null } = request.body;
      if (schema) schemas.check(schema);
      if (resourceUrlTemplate !== null) checkResourceUrlTemplate(resourceUrlTemplate);
      const now = Date.now();
      const created = await store.createEventType({ name: name!, description, schema, resourceUrlTemplate, createdAt: now, updatedAt: now });
      return reply.code(201).send(eventTypeJson(created));
    },
  );

  api.get<{ Querystring: ListQuery }>(
    '/api/v1/event-types',
    { schema: { tags: ['event types'], summary: 'List event types', querystring: listQuery, response: { 200: listOf('EventType'), ...errorResponses } } },
    async (request) => listResponse(await store.listEventTypes(pageQuery(request.query)), eventTypeJson),
  );

  api.get<{ Params: { name: string } }>(
    '/api/v1/event-types/:name',
    { schema: { tags: ['event types'], summary: 'Get an event type', params: nameParams, response: { 200: ref('EventType'), ...errorResponses } } },
    async (request) => {
      const eventType = await store.getEventType(request.params.name);
      if (!eventType) throw notFound('event type');
      return eventTypeJson(eventType);
    },
  );

  api.patch<{ Params: { name: string }; Body: EventTypeBody }>(
    '/api/v1/event-types/:name',
    {
      schema: {
        tags: ['event types'],
        summary: "Update an event type's description, schema or resource URL template",
        params: nameParams,
        body: { ...eventTypeBody, properties: { description: eventTypeBody.properties.description, schema: eventTypeBody.properties.schema, resourceUrlTemplate: eventTypeBody.properties.resourceUrlTemplate } },
        response: { 200: ref('EventType'), ...errorResponses },
      },
    },
    async (request) => {
      requireAdmin(request);
      if (request.body.schema) schemas.check(request.body.schema);
      if (typeof request.body.resourceUrlTemplate === 'string') checkResourceUrlTemplate(request.body.resourceUrlTemplate);
      const updated = await store.updateEventType(request.params.name, request.body, Date.now());
      if (!updated) throw notFound('event type');
      return eventTypeJson(updated);
    },
  );

  api.delete<{ Params: { name: string } }>(
    '/api/v1/event-types/:name',
    { schema: { tags: ['event types'], summary: 'Delete an event type', params: nameParams, response: errorResponses } },
    async (request, reply) => {
      requireAdmin(request);
      if (!(await store.deleteEventType(request.params.name))) throw notFound('event type');
      return reply.code(204).send();
    },
  );
}
