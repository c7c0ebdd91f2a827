import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EndpointInput } from '../../domain/endpoints.js';
import { notFound } from '../../errors.js';
import type { Services } from '../../services.js';
import type { App, Endpoint } from '../../store/store.js';
import { visibleApp } from '../auth.js';
import { channelName, endpointBody, NAME_PATTERN } from '../schemas.js';
import { stringMap } from './applications.js';
import { notSupported } from './errors.js';
import { orderQuery, svixList, svixListQuery, svixPageQuery, type SvixListQuery } from './pagination.js';
import { endpointOut } from './serialize.js';

/** Svix's EndpointIn / EndpointUpdate / EndpointPatch. */
interface EndpointIn {
  url?: string;
  description?: string;
  filterTypes?: string[] | null;
  channels?: string[] | null;
  disabled?: boolean;
  headers?: Record<string, string> | null;
  metadata?: Record<string, string>;
  rateLimit?: number | null;
  throttleRate?: number | null;
  secret?: string | null;
  uid?: string | null;
  version?: number | null;
}

const endpointFields = {
  url: { type: 'string', minLength: 1, maxLength: 2048 },
  description: { type: 'string', maxLength: 4096 },
  filterTypes: { type: ['array', 'null'], items: { type: 'string', minLength: 1, maxLength: 256, pattern: NAME_PATTERN }, uniqueItems: true, minItems: 1, maxItems: 1000 },
  channels: { type: ['array', 'null'], items: channelName, uniqueItems: true, minItems: 1, maxItems: 10 },
  disabled: { type: 'boolean' },
  metadata: stringMap,
  rateLimit: { type: ['integer', 'null'], minimum: 1, maximum: 100_000 },
  throttleRate: { type: ['integer', 'null'], minimum: 1, maximum: 100_000 },
  uid: { type: ['string', 'null'], maxLength: 256 },
  version: { type: ['integer', 'null'] },
} as const;
const headersSchema = endpointBody.properties.headers;
const secretSchema = { type: ['string', 'null'], maxLength: 256 } as const;

const createBody = { type: 'object', additionalProperties: false, required: ['url'], properties: { ...endpointFields, headers: { ...headersSchema, type: ['object', 'null'] }, secret: secretSchema } } as const;
const updateBody = { type: 'object', additionalProperties: false, required: ['url'], properties: endpointFields } as const;
const patchBody = { type: 'object', additionalProperties: false, properties: { ...endpointFields, secret: secretSchema } } as const;

export const appParams = { type: 'object', required: ['app_id'], properties: { app_id: { type: 'string', maxLength: 256 } } } as const;
export const epParams = {
  type: 'object',
  required: ['app_id', 'endpoint_id'],
  properties: { app_id: { type: 'string', maxLength: 256 }, endpoint_id: { type: 'string', maxLength: 64 } },
} as const;
const tags = ['svix'];

export type EpRequest = FastifyRequest<{ Params: { app_id: string; endpoint_id: string } }>;

/** The app and endpoint of a Svix endpoint path, if this token may see them (404 otherwise). Endpoints have no uid. */
export async function loadEndpoint({ store }: Services, request: EpRequest): Promise<{ app: App; endpoint: Endpoint }> {
  const app = await visibleApp(store, request, request.params.app_id);
  const endpoint = await store.getEndpoint(app.id, request.params.endpoint_id);
  if (!endpoint) throw notFound('endpoint');
  return { app, endpoint };
}

/** Svix fields → Hookyard's EndpointInput; only the fields the body names (PATCH), null clearing a filter. */
function toInput(body: EndpointIn): EndpointInput {
  if (body.uid !== undefined && body.uid !== null) throw notSupported('an endpoint "uid" (address endpoints by their id)');
  if (body.version !== undefined && body.version !== null && body.version !== 1) throw notSupported('an endpoint "version" other than 1');
  if (body.rateLimit != null && body.throttleRate != null && body.rateLimit !== body.throttleRate) {
    throw notSupported('different "rateLimit" and "throttleRate" (Hookyard has one limit)');
  }
  const input: EndpointInput = {};
  if (body.url !== undefined) input.url = body.url;
  if (body.description !== undefined) input.description = body.description;
  if (body.filterTypes !== undefined) input.eventTypes = body.filterTypes;
  if (body.channels !== undefined) input.channels = body.channels;
  if (body.disabled !== undefined) input.disabled = body.disabled;
  if (body.metadata !== undefined) input.metadata = body.metadata;
  if (body.headers !== undefined) input.headers = body.headers ?? {};
  const rate = body.throttleRate !== undefined ? body.throttleRate : body.rateLimit;
  if (rate !== undefined) input.rateLimit = rate;
  return input;
}

export function endpointRoutes(api: FastifyInstance, services: Services): void {
  const { store, endpoints } = services;

  api.post<{ Params: { app_id: string }; Body: EndpointIn & { url: string } }>(
    '/api/v1/app/:app_id/endpoint',
    { schema: { tags, summary: 'Svix: create an endpoint', params: appParams, body: createBody } },
    async (request, reply) => {
      const app = await visibleApp(store, request, request.params.app_id);
      const input = toInput(request.body);
      const { endpoint } = await endpoints.create(app.id, { ...input, url: request.body.url, ...(request.body.secret == null ? {} : { secret: request.body.secret }) });
      return reply.code(201).send(endpointOut(endpoint));
    },
  );

  api.get<{ Params: { app_id: string }; Querystring: SvixListQuery }>(
    '/api/v1/app/:app_id/endpoint',
    { schema: { tags, summary: "Svix: list an application's endpoints, oldest first", params: appParams, querystring: { type: 'object', properties: { ...svixListQuery, order: orderQuery } } } },
    async (request) => {
      const app = await visibleApp(store, request, request.params.app_id);
      return svixList(await store.listEndpoints(app.id, svixPageQuery(request.query, 'ascending')), endpointOut);
    },
  );

  api.get<{ Params: { app_id: string; endpoint_id: string } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id',
    { schema: { tags, summary: 'Svix: get an endpoint', params: epParams } },
    async (request) => endpointOut((await loadEndpoint(services, request)).endpoint),
  );

  const update = async (request: FastifyRequest<{ Params: { app_id: string; endpoint_id: string }; Body: EndpointIn }>, replace: boolean) => {
    const { app, endpoint } = await loadEndpoint(services, request);
    const input = toInput(request.body);
    // PUT replaces the endpoint's settings (headers and secret have their own calls); PATCH changes what it names.
    const full: EndpointInput = replace
      ? { description: '', eventTypes: null, channels: null, disabled: false, metadata: {}, rateLimit: null, ...input }
      : input;
    const updated = await endpoints.update(app.id, endpoint.id, full);
    if (!updated) throw notFound('endpoint');
    if (!replace && request.body.secret != null) await endpoints.rotateSecret(endpoint.id, request.body.secret);
    return endpointOut(updated);
  };

  api.put<{ Params: { app_id: string; endpoint_id: string }; Body: EndpointIn }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id',
    { schema: { tags, summary: 'Svix: replace an endpoint', params: epParams, body: updateBody } },
    async (request) => update(request, true),
  );

  api.patch<{ Params: { app_id: string; endpoint_id: string }; Body: EndpointIn }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id',
    { schema: { tags, summary: 'Svix: update an endpoint (a secret rotates it, the previous one signing 24 h more)', params: epParams, body: patchBody } },
    async (request) => update(request, false),
  );

  api.delete<{ Params: { app_id: string; endpoint_id: string } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id',
    { schema: { tags, summary: 'Svix: delete an endpoint', params: epParams } },
    async (request, reply) => {
      const { app, endpoint } = await loadEndpoint(services, request);
      await store.deleteEndpoint(app.id, endpoint.id);
      return reply.code(204).send();
    },
  );

  api.get<{ Params: { app_id: string; endpoint_id: string } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/headers',
    { schema: { tags, summary: "Svix: the endpoint's custom headers (none is masked as sensitive)", params: epParams } },
    async (request) => ({ headers: (await loadEndpoint(services, request)).endpoint.headers, sensitive: [] }),
  );

  api.put<{ Params: { app_id: string; endpoint_id: string }; Body: { headers: Record<string, string> } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/headers',
    {
      schema: {
        tags,
        summary: "Svix: replace the endpoint's custom headers",
        params: epParams,
        body: { type: 'object', additionalProperties: false, required: ['headers'], properties: { headers: headersSchema } },
      },
    },
    async (request, reply) => {
      const { app, endpoint } = await loadEndpoint(services, request);
      await endpoints.update(app.id, endpoint.id, { headers: request.body.headers });
      return reply.code(204).send();
    },
  );

  api.patch<{ Params: { app_id: string; endpoint_id: string }; Body: { headers: Record<string, string>; deleteHeaders?: string[] } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/headers',
    {
      schema: {
        tags,
        summary: "Svix: set some of the endpoint's custom headers and remove others",
        params: epParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['headers'],
          properties: { headers: headersSchema, deleteHeaders: { type: 'array', items: { type: 'string', maxLength: 128 } } },
        },
      },
    },
    async (request, reply) => {
      const { app, endpoint } = await loadEndpoint(services, request);
      const removed = new Set((request.body.deleteHeaders ?? []).map((name) => name.toLowerCase()));
      const kept = Object.entries(endpoint.headers).filter(([name]) => !removed.has(name.toLowerCase()));
      await endpoints.update(app.id, endpoint.id, { headers: { ...Object.fromEntries(kept), ...request.body.headers } });
      return reply.code(204).send();
    },
  );
}
