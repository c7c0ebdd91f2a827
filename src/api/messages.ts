import type { FastifyInstance } from 'fastify';
import { HookyardError, notFound } from '../errors.js';
import type { Services } from '../services.js';
import type { Json } from '../store/store.js';
import { visibleApp } from './auth.js';
import { listResponse, pageQuery, type ListQuery } from './pagination.js';
import { errorResponses, listOf, listQuery, messageBody, NAME_PATTERN, ref } from './schemas.js';
import { attemptJson, deliveryJson, messageJson } from './serialize.js';

const appParams = { type: 'object', required: ['app'], properties: { app: { type: 'string', maxLength: 256 } } } as const;
const msgParams = {
  type: 'object',
  required: ['app', 'msg'],
  properties: { app: { type: 'string', maxLength: 256 }, msg: { type: 'string', maxLength: 64 } },
} as const;

interface MessageQuery extends ListQuery {
  eventType?: string;
  before?: string;
  after?: string;
}

export function messageRoutes(api: FastifyInstance, { store, messages, signal }: Services): void {
  api.post<{ Params: { app: string }; Body: { eventType: string; payload: Json; eventId?: string } }>(
    '/api/v1/apps/:app/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'Send a message: committed with its deliveries before the 202',
        params: appParams,
        body: messageBody,
        response: { 202: ref('Message'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const app = await visibleApp(store, request, request.params.app);
      const message = await messages.send(app, request.body);
      return reply.code(202).send(messageJson(message));
    },
  );

  api.get<{ Params: { app: string }; Querystring: MessageQuery }>(
    '/api/v1/apps/:app/messages',
    {
      schema: {
        tags: ['messages'],
        summary: "List an app's messages, newest first",
        params: appParams,
        querystring: {
          ...listQuery,
          properties: {
            ...listQuery.properties,
            eventType: { type: 'string', maxLength: 256, pattern: NAME_PATTERN },
            before: { type: 'string', format: 'date-time' },
            after: { type: 'string', format: 'date-time' },
          },
        },
        response: { 200: listOf('Message'), ...errorResponses },
      },
    },
    async (request) => {
      const app = await visibleApp(store, request, request.params.app);
      const { eventType, before, after } = request.query;
      const filter = {
        eventType,
        before: before === undefined ? undefined : Date.parse(before),
        after: after === undefined ? undefined : Date.parse(after),
      };
      return listResponse(await store.listMessages(app.id, filter, pageQuery(request.query)), messageJson);
    },
  );

  api.get<{ Params: { app: string; msg: string } }>(
    '/api/v1/apps/:app/messages/:msg',
    { schema: { tags: ['messages'], summary: 'Get a message', params: msgParams, response: { 200: ref('Message'), ...errorResponses } } },
    async (request) => {
      const app = await visibleApp(store, request, request.params.app);
      const message = await store.getMessage(app.id, request.params.msg);
      if (!message) throw notFound('message');
      return messageJson(message);
    },
  );

  api.get<{ Params: { app: string; msg: string } }>(
    '/api/v1/apps/:app/messages/:msg/deliveries',
    { schema: { tags: ['messages'], summary: "The message's delivery state per endpoint", params: msgParams, response: { 200: listOf('Delivery'), ...errorResponses } } },
    async (request) => {
      const app = await visibleApp(store, request, request.params.app);
      if (!(await store.getMessage(app.id, request.params.msg))) throw notFound('message');
      return { data: (await store.listDeliveries(app.id, request.params.msg)).map(deliveryJson), nextCursor: null };
    },
  );

  api.get<{ Params: { app: string; msg: string }; Querystring: ListQuery }>(
    '/api/v1/apps/:app/messages/:msg/attempts',
    { schema: { tags: ['attempts'], summary: "A message's attempts, newest first", params: msgParams, querystring: listQuery, response: { 200: listOf('Attempt'), ...errorResponses } } },
    async (request) => {
      const app = await visibleApp(store, request, request.params.app);
      if (!(await store.getMessage(app.id, request.params.msg))) throw notFound('message');
      return listResponse(await store.listAttempts(app.id, { messageId: request.params.msg }, pageQuery(request.query)), attemptJson);
    },
  );

  api.post<{ Params: { app: string; msg: string; ep: string } }>(
    '/api/v1/apps/:app/messages/:msg/endpoints/:ep/resend',
    {
      schema: {
        tags: ['messages'],
        summary: 'One more attempt of this message to this endpoint, now',
        params: { ...msgParams, required: ['app', 'msg', 'ep'], properties: { ...msgParams.properties, ep: { type: 'string', maxLength: 64 } } },
        response: { 202: { type: 'object', properties: { status: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const app = await visibleApp(store, request, request.params.app);
      if (!(await store.getMessage(app.id, request.params.msg))) throw notFound('message');
      const endpoint = await store.getEndpoint(app.id, request.params.ep);
      if (!endpoint) throw notFound('endpoint');
      if (endpoint.disabled) throw new HookyardError('conflict', 'the endpoint is disabled: enable it before resending');
      const result = await store.resendDelivery(app.id, request.params.msg, endpoint.id, Date.now());
      if (result === 'in_flight') throw new HookyardError('conflict', 'an attempt of this message to this endpoint is in progress');
      signal.notify();
      return reply.code(202).send({ status: 'queued' });
    },
  );
}
