import type { FastifyInstance } from 'fastify';
import { HookyardError, notFound } from '../../errors.js';
import type { Services } from '../../services.js';
import type { EventType, Json } from '../../store/store.js';
import { requireAdmin } from '../auth.js';
import { NAME_PATTERN } from '../schemas.js';
import { notSupported, refuseSet } from './errors.js';
import { orderQuery, svixList, svixListQuery, svixPageQuery, type SvixListQuery } from './pagination.js';
import { eventTypeOut } from './serialize.js';

/** Svix's EventTypeIn / EventTypeUpdate / EventTypePatch. */
interface EventTypeIn {
  name?: string;
  description?: string;
  schemas?: Record<string, Json> | null;
  archived?: boolean;
  deprecated?: boolean;
  featureFlag?: string | null;
  featureFlags?: string[] | null;
  groupName?: string | null;
}

const fields = {
  description: { type: 'string', maxLength: 4096 },
  schemas: { type: ['object', 'null'], additionalProperties: { type: 'object' } },
  archived: { type: 'boolean' },
  deprecated: { type: 'boolean' },
  featureFlag: { type: ['string', 'null'] },
  featureFlags: { type: ['array', 'null'], items: { type: 'string' } },
  groupName: { type: ['string', 'null'] },
} as const;
const nameSchema = { type: 'string', minLength: 1, maxLength: 256, pattern: NAME_PATTERN } as const;
const createBody = { type: 'object', additionalProperties: false, required: ['name', 'description'], properties: { name: nameSchema, ...fields } } as const;
const updateBody = { type: 'object', additionalProperties: false, required: ['description'], properties: fields } as const;
const patchBody = { type: 'object', additionalProperties: false, properties: fields } as const;
const nameParams = { type: 'object', required: ['event_type_name'], properties: { event_type_name: { type: 'string', maxLength: 256 } } } as const;
const tags = ['svix'];

/** Svix keys JSON Schemas by version; Hookyard keeps one per event type, so only version "1" is accepted. */
function schemaOf(schemas: EventTypeIn['schemas']): Json | null | undefined {
  if (schemas === undefined) return undefined;
  if (schemas === null) return null;
  const versions = Object.keys(schemas);
  if (versions.length === 0) return null;
  if (versions.length > 1 || versions[0] !== '1') throw notSupported('an event type schema version other than "1"');
  return schemas['1']!;
}

function checkUnsupported(body: EventTypeIn): void {
  refuseSet({ archived: body.archived, deprecated: body.deprecated, featureFlag: body.featureFlag, featureFlags: body.featureFlags, groupName: body.groupName }, 'the event type field');
}

export function eventTypeRoutes(api: FastifyInstance, { store, schemas }: Services): void {
  const checkSchema = (schema: Json | null | undefined): void => {
    if (!schema) return;
    try {
      schemas.check(schema);
    } catch (err) {
      // Named where the Svix body holds it.
      if (err instanceof HookyardError) throw new HookyardError(err.code, err.message, [{ path: '/body/schemas/1', message: err.message }]);
      throw err;
    }
  };

  api.post<{ Body: EventTypeIn & { name: string; description: string } }>(
    '/api/v1/event-type',
    { schema: { tags, summary: 'Svix: create an event type', body: createBody } },
    async (request, reply) => {
      requireAdmin(request);
      checkUnsupported(request.body);
      const schema = schemaOf(request.body.schemas) ?? null;
      checkSchema(schema);
      const now = Date.now();
      const created = await store.createEventType({ name: request.body.name, description: request.body.description, schema, resourceUrlTemplate: null, createdAt: now, updatedAt: now });
      return reply.code(201).send(eventTypeOut(created));
    },
  );

  api.get<{ Querystring: SvixListQuery & { include_archived?: boolean; with_content?: boolean } }>(
    '/api/v1/event-type',
    {
      schema: {
        tags,
        summary: 'Svix: list event types by name (schemas only with with_content=true)',
        querystring: { type: 'object', properties: { ...svixListQuery, order: orderQuery, include_archived: { type: 'boolean' }, with_content: { type: 'boolean' } } },
      },
    },
    // No event type is ever archived here, so include_archived changes nothing.
    async (request) => svixList(await store.listEventTypes(svixPageQuery(request.query, 'ascending')), (e: EventType) => eventTypeOut(e, request.query.with_content === true)),
  );

  api.get<{ Params: { event_type_name: string } }>(
    '/api/v1/event-type/:event_type_name',
    { schema: { tags, summary: 'Svix: get an event type', params: nameParams } },
    async (request) => {
      const eventType = await store.getEventType(request.params.event_type_name);
      if (!eventType) throw notFound('event type');
      return eventTypeOut(eventType);
    },
  );

  const update = async (name: string, body: EventTypeIn) => {
    checkUnsupported(body);
    const schema = schemaOf(body.schemas);
    checkSchema(schema);
    const patch = { ...(body.description === undefined ? {} : { description: body.description }), ...(schema === undefined ? {} : { schema }) };
    const updated = await store.updateEventType(name, patch, Date.now());
    if (!updated) throw notFound('event type');
    return eventTypeOut(updated);
  };

  api.put<{ Params: { event_type_name: string }; Body: EventTypeIn & { description: string } }>(
    '/api/v1/event-type/:event_type_name',
    { schema: { tags, summary: "Svix: replace an event type's description and schema", params: nameParams, body: updateBody } },
    async (request) => {
      requireAdmin(request);
      // A replace: an omitted schema is removed.
      return update(request.params.event_type_name, { ...request.body, schemas: request.body.schemas ?? null });
    },
  );

  api.patch<{ Params: { event_type_name: string }; Body: EventTypeIn }>(
    '/api/v1/event-type/:event_type_name',
    { schema: { tags, summary: 'Svix: update an event type', params: nameParams, body: patchBody } },
    async (request) => {
      requireAdmin(request);
      return update(request.params.event_type_name, request.body);
    },
  );

  api.delete<{ Params: { event_type_name: string }; Querystring: { expunge?: boolean } }>(
    '/api/v1/event-type/:event_type_name',
    {
      schema: {
        tags,
        summary: 'Svix: delete an event type (Hookyard removes it: there is no archive, and sending that type stays allowed)',
        params: nameParams,
        querystring: { type: 'object', properties: { expunge: { type: 'boolean' } } },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      if (!(await store.deleteEventType(request.params.event_type_name))) throw notFound('event type');
      return reply.code(204).send();
    },
  );
}
