import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SendMessageInput } from '../domain/messages.js';
import { HookyardError, notFound } from '../errors.js';
import type { Services } from '../services.js';
import type { Message } from '../store/store.js';
import { visibleApp, type Authenticator } from './auth.js';
import { listResponse, pageQuery, type ListQuery } from './pagination.js';
import { channelName, errorResponses, listOf, listQuery, messageBody, messageBatchBody, NAME_PATTERN, ref } from './schemas.js';
import { attemptJson, deliveryJson, messageJson } from './serialize.js';

const appParams = { type: 'object', required: ['app'], properties: { app: { type: 'string', maxLength: 256 } } } as const;
const msgParams = {
  type: 'object',
  required: ['app', 'msg'],
  properties: { app: { type: 'string', maxLength: 256 }, msg: { type: 'string', maxLength: 64 } },
} as const;

interface MessageQuery extends ListQuery {
  eventType?: string;
  channel?: string;
  before?: string;
  after?: string;
}

/** The most messages one batch request may carry. */
export const MAX_BATCH = 100;

type BatchResult = { status: 202; message: ReturnType<typeof messageJson> } | { status: number; error: ReturnType<HookyardError['toJSON']> };

export function messageRoutes(api: FastifyInstance, { store, messages, signal }: Services, auth: Authenticator): void {
  /**
   * Sends through the cached configuration. Should it have changed under the send on another node, the token is
   * checked and the app read again before the next try: a revoked key or a deleted app is refused, not served stale.
   */
  const send = async (request: FastifyRequest<{ Params: { app: string } }>, input: SendMessageInput): Promise<Message> =>
    messages.send(await visibleApp(store, request, request.params.app), input, {
      refresh: async () => {
        request.principal = await auth.authenticate(request);
        return visibleApp(store, request, request.params.app);
      },
    });

  api.post<{ Params: { app: string }; Body: SendMessageInput }>(
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
    async (request, reply) => reply.code(202).send(messageJson(await send(request, request.body))),
  );

  api.post<{ Params: { app: string }; Body: { messages: SendMessageInput[] } }>(
    '/api/v1/apps/:app/messages/batch',
    {
      schema: {
        tags: ['messages'],
        summary: `Send up to ${MAX_BATCH} messages in one request: each accepted one is committed (all in one transaction) before the answer`,
        description:
          'Answers 200 with one result per message, in order: `{status: 202, message}` or `{status, error: {code, message, details?}}` ' +
          '(409 for a repeated eventId, 422 for a payload its schema refuses). One message failing does not stop the others.',
        params: appParams,
        body: messageBatchBody(MAX_BATCH),
        response: { 200: ref('MessageBatchResult'), ...errorResponses },
      },
    },
    async (request) => {
      await visibleApp(store, request, request.params.app);
      // Side by side, so that they share one group commit (one transaction, one fsync).
      const data = await Promise.all(request.body.messages.map(async (input): Promise<BatchResult> => {
        try {
          return { status: 202, message: messageJson(await send(request, input)) };
        } catch (err) {
          if (!(err instanceof HookyardError) || err.statusCode >= 500) throw err;
          return { status: err.statusCode, error: err.toJSON() };
        }
      }));
      return { data };
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
            channel: channelName,
            before: { type: 'string', format: 'date-time' },
            after: { type: 'string', format: 'date-time' },
          },
        },
        response: { 200: listOf('Message'), ...errorResponses },
      },
    },
    async (request) => {
      const app = await visibleApp(store, request, request.params.app);
      const { eventType, channel, before, after } = request.query;
      const filter = {
        eventType,
        channel,
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
