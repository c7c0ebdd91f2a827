import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HookyardError, notFound } from '../../errors.js';
import type { Services } from '../../services.js';
import type { App, Attempt, Message, PageQuery } from '../../store/store.js';
import { visibleApp } from '../auth.js';
import { channelName, NAME_PATTERN } from '../schemas.js';
import { refuseSet } from './errors.js';
import { epParams } from './endpoints.js';
import { msgParams } from './messages.js';
import { filteredPage, svixList, svixListQuery, svixPageQuery, type SvixListQuery } from './pagination.js';
import { attemptOut, messageEndpointOut } from './serialize.js';

interface AttemptListQuery extends SvixListQuery {
  status?: number;
  status_code_class?: number;
  channel?: string;
  tag?: string;
  endpoint_id?: string;
  before?: string;
  after?: string;
  with_content?: boolean;
  with_msg?: boolean;
  expanded_statuses?: boolean;
  event_types?: string;
}

const attemptListQuery = {
  type: 'object',
  properties: {
    ...svixListQuery,
    status: { type: 'integer', enum: [0, 1, 2, 3, 4] },
    status_code_class: { type: 'integer', enum: [0, 100, 200, 300, 400, 500] },
    channel: channelName,
    tag: { type: 'string' },
    endpoint_id: { type: 'string', maxLength: 64 },
    before: { type: 'string', format: 'date-time' },
    after: { type: 'string', format: 'date-time' },
    with_content: { type: 'boolean' },
    with_msg: { type: 'boolean' },
    expanded_statuses: { type: 'boolean' },
    event_types: { type: 'string', maxLength: 8192 },
  },
} as const;
const tags = ['svix'];

/**
 * The Svix attempt filters Hookyard's store does not index, applied while reading the app's attempts in order.
 * Attempts are written when they finish, so a status filter for pending, sending or canceled matches none.
 */
function attemptFilter(store: Services['store'], app: App, query: AttemptListQuery): (attempt: Attempt) => Promise<boolean> {
  refuseSet({ tag: query.tag }, 'the attempt list filter');
  const types = query.event_types === undefined ? null : new Set(query.event_types.split(',').filter((name) => name !== ''));
  if (types && [...types].some((name) => !new RegExp(NAME_PATTERN).test(name))) {
    throw new HookyardError('validation_error', 'event_types must be event type names', [{ path: '/query/event_types', message: 'invalid' }]);
  }
  const before = query.before === undefined ? undefined : Date.parse(query.before);
  const after = query.after === undefined ? undefined : Date.parse(query.after);
  const messages = new Map<string, Promise<Message | null>>();
  const messageOf = (id: string) => {
    if (!messages.has(id)) messages.set(id, store.getMessage(app.id, id));
    return messages.get(id)!;
  };
  return async (attempt) => {
    if (query.status !== undefined && query.status !== (attempt.status === 'success' ? 0 : 2)) return false;
    if (query.status_code_class !== undefined) {
      const code = attempt.responseStatusCode ?? 0;
      if (query.status_code_class === 0 ? code !== 0 : Math.floor(code / 100) * 100 !== query.status_code_class) return false;
    }
    if (query.endpoint_id !== undefined && attempt.endpointId !== query.endpoint_id) return false;
    if (before !== undefined && attempt.createdAt >= before) return false;
    if (after !== undefined && attempt.createdAt <= after) return false;
    if (types === null && query.channel === undefined) return true;
    const message = await messageOf(attempt.messageId);
    if (!message) return false;
    if (types !== null && !types.has(message.eventType)) return false;
    return query.channel === undefined || (message.channels ?? []).includes(query.channel);
  };
}

export function attemptRoutes(api: FastifyInstance, services: Services): void {
  const { store, signal } = services;

  const loadMessage = async (request: FastifyRequest<{ Params: { app_id: string; msg_id: string } }>): Promise<{ app: App; message: Message }> => {
    const app = await visibleApp(store, request, request.params.app_id);
    const message = await store.getMessage(app.id, request.params.msg_id);
    if (!message) throw notFound('message');
    return { app, message };
  };

  api.get<{ Params: { app_id: string; endpoint_id: string }; Querystring: AttemptListQuery }>(
    '/api/v1/app/:app_id/attempt/endpoint/:endpoint_id',
    { schema: { tags, summary: "Svix: an endpoint's attempts, newest first", params: epParams, querystring: attemptListQuery } },
    async (request) => {
      const app = await visibleApp(store, request, request.params.app_id);
      const endpoint = await store.getEndpoint(app.id, request.params.endpoint_id);
      if (!endpoint) throw notFound('endpoint');
      const keep = attemptFilter(store, app, request.query);
      const fetch = (page: PageQuery) => store.listAttempts(app.id, { endpointId: endpoint.id }, page);
      const page = await filteredPage(fetch, svixPageQuery(request.query), keep);
      const withContent = request.query.with_content !== false;
      const msgs = request.query.with_msg ? new Map((await Promise.all(page.data.map((a) => store.getMessage(app.id, a.messageId)))).flatMap((m) => (m ? [[m.id, m] as const] : []))) : null;
      return svixList(page, (attempt) => attemptOut(attempt, { withContent, msg: msgs?.get(attempt.messageId) }));
    },
  );

  api.get<{ Params: { app_id: string; msg_id: string }; Querystring: AttemptListQuery }>(
    '/api/v1/app/:app_id/attempt/msg/:msg_id',
    { schema: { tags, summary: "Svix: a message's attempts, newest first", params: msgParams, querystring: attemptListQuery } },
    async (request) => {
      const { app, message } = await loadMessage(request);
      const keep = attemptFilter(store, app, request.query);
      const fetch = (page: PageQuery) => store.listAttempts(app.id, { messageId: message.id }, page);
      const page = await filteredPage(fetch, svixPageQuery(request.query), keep);
      const withContent = request.query.with_content !== false;
      return svixList(page, (attempt) => attemptOut(attempt, { withContent }));
    },
  );

  api.get<{ Params: { app_id: string; msg_id: string; attempt_id: string } }>(
    '/api/v1/app/:app_id/msg/:msg_id/attempt/:attempt_id',
    {
      schema: {
        tags,
        summary: 'Svix: get one attempt of a message',
        params: { ...msgParams, required: ['app_id', 'msg_id', 'attempt_id'], properties: { ...msgParams.properties, attempt_id: { type: 'string', maxLength: 64 } } },
        querystring: { type: 'object', properties: { expanded_statuses: { type: 'boolean' } } },
      },
    },
    async (request) => {
      const { app, message } = await loadMessage(request);
      // A message has a handful of attempts: read them until this one.
      for (let after: string | undefined; ;) {
        const page = await store.listAttempts(app.id, { messageId: message.id }, { limit: 250, after });
        const attempt = page.data.find((a) => a.id === request.params.attempt_id);
        if (attempt) return attemptOut(attempt);
        if (page.next === null) throw notFound('attempt');
        after = page.next;
      }
    },
  );

  api.get<{ Params: { app_id: string; msg_id: string }; Querystring: SvixListQuery }>(
    '/api/v1/app/:app_id/msg/:msg_id/endpoint',
    { schema: { tags, summary: 'Svix: the endpoints a message was sent to, with its delivery state at each', params: msgParams, querystring: { type: 'object', properties: svixListQuery } } },
    async (request) => {
      const { app, message } = await loadMessage(request);
      const { limit, after } = svixPageQuery(request.query);
      // Deliveries come by endpoint id; endpoints deleted since have none left.
      const deliveries = (await store.listDeliveries(app.id, message.id)).filter((d) => after === undefined || d.endpointId > after);
      const slice = deliveries.slice(0, limit);
      const endpoints = new Map((await store.getEndpointsByIds(slice.map((d) => d.endpointId))).filter((e) => e.appId === app.id).map((e) => [e.id, e]));
      const data = slice.flatMap((d) => {
        const endpoint = endpoints.get(d.endpointId);
        return endpoint ? [messageEndpointOut(endpoint, d)] : [];
      });
      const next = deliveries.length > limit ? slice[slice.length - 1]!.endpointId : null;
      return { data, iterator: next, prevIterator: null, done: next === null };
    },
  );

  api.post<{ Params: { app_id: string; msg_id: string; endpoint_id: string } }>(
    '/api/v1/app/:app_id/msg/:msg_id/endpoint/:endpoint_id/resend',
    {
      schema: {
        tags,
        summary: 'Svix: one more attempt of this message to this endpoint, now',
        params: { ...msgParams, required: ['app_id', 'msg_id', 'endpoint_id'], properties: { ...msgParams.properties, endpoint_id: { type: 'string', maxLength: 64 } } },
      },
    },
    async (request, reply) => {
      const { app, message } = await loadMessage(request);
      const endpoint = await store.getEndpoint(app.id, request.params.endpoint_id);
      if (!endpoint) throw notFound('endpoint');
      if (endpoint.disabled) throw new HookyardError('conflict', 'the endpoint is disabled: enable it before resending');
      const result = await store.resendDelivery(app.id, message.id, endpoint.id, Date.now());
      if (result === 'in_flight') throw new HookyardError('conflict', 'an attempt of this message to this endpoint is in progress');
      signal.notify();
      return reply.code(202).send({});
    },
  );
}
