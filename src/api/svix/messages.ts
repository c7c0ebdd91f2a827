import type { FastifyInstance } from 'fastify';
import { HookyardError, notFound } from '../../errors.js';
import type { Services } from '../../services.js';
import type { Message, MessageFilter, PageQuery } from '../../store/store.js';
import { visibleApp, type Authenticator } from '../auth.js';
import { channelName, NAME_PATTERN } from '../schemas.js';
import { applicationInSchema, svixApp, type ApplicationIn } from './applications.js';
import { refuseSet } from './errors.js';
import { appParams } from './endpoints.js';
import { mergedPage, svixList, svixListQuery, svixPageQuery, type SvixListQuery } from './pagination.js';
import { messageOut } from './serialize.js';

/** Svix's MessageIn. */
interface MessageIn {
  eventType: string;
  payload: Record<string, unknown>;
  eventId?: string | null;
  channels?: string[] | null;
  application?: ApplicationIn | null;
  deliverAt?: string | null;
  payloadRetentionHours?: number | null;
  payloadRetentionPeriod?: number | null;
  tags?: string[] | null;
  transformationsParams?: unknown;
}

interface MessageListQuery extends SvixListQuery {
  channel?: string;
  before?: string;
  after?: string;
  with_content?: boolean;
  tag?: string;
  event_types?: string;
}

const eventTypeName = { type: 'string', minLength: 1, maxLength: 256, pattern: NAME_PATTERN } as const;
const messageInBody = {
  type: 'object',
  additionalProperties: false,
  required: ['eventType', 'payload'],
  properties: {
    eventType: eventTypeName,
    payload: { type: 'object' },
    eventId: { type: ['string', 'null'], minLength: 1, maxLength: 256 },
    channels: { type: ['array', 'null'], items: channelName, uniqueItems: true, maxItems: 10 },
    application: { ...applicationInSchema, type: ['object', 'null'], required: ['name'] },
    deliverAt: { type: ['string', 'null'] },
    payloadRetentionHours: { type: ['integer', 'null'] },
    payloadRetentionPeriod: { type: ['integer', 'null'] },
    tags: { type: ['array', 'null'], items: { type: 'string' } },
    transformationsParams: {},
  },
} as const;
export const msgParams = {
  type: 'object',
  required: ['app_id', 'msg_id'],
  properties: { app_id: { type: 'string', maxLength: 256 }, msg_id: { type: 'string', maxLength: 64 } },
} as const;
const withContentQuery = { type: 'object', properties: { with_content: { type: 'boolean' } } } as const;
const tags = ['svix'];

const MAX_EVENT_TYPES = 20;

export function messageRoutes(api: FastifyInstance, { store, messages }: Services, auth: Authenticator): void {
  api.post<{ Params: { app_id: string }; Body: MessageIn; Querystring: { with_content?: boolean } }>(
    '/api/v1/app/:app_id/msg',
    {
      schema: {
        tags,
        summary: 'Svix: send a message (committed with its deliveries before the 202; `application` creates a missing app)',
        params: appParams,
        querystring: withContentQuery,
        body: messageInBody,
      },
    },
    async (request, reply) => {
      const { eventType, payload, eventId, channels, application, deliverAt, payloadRetentionHours, payloadRetentionPeriod, tags: messageTags, transformationsParams } = request.body;
      refuseSet({ deliverAt, payloadRetentionHours, payloadRetentionPeriod, tags: messageTags, transformationsParams }, 'the message field');
      const app = await svixApp(store, request, request.params.app_id, application);
      // As Hookyard's own send: should the configuration change under it, the token and app are checked again.
      const message = await messages.send(app, { eventType, payload, eventId: eventId ?? undefined, channels: channels ?? undefined }, {
        refresh: async () => {
          request.principal = await auth.authenticate(request);
          return visibleApp(store, request, app.id);
        },
      });
      return reply.code(202).send(messageOut(message, request.query.with_content !== false));
    },
  );

  api.get<{ Params: { app_id: string }; Querystring: MessageListQuery }>(
    '/api/v1/app/:app_id/msg',
    {
      schema: {
        tags,
        summary: "Svix: list an application's messages, newest first",
        params: appParams,
        querystring: {
          type: 'object',
          properties: {
            ...svixListQuery,
            channel: channelName,
            before: { type: 'string', format: 'date-time' },
            after: { type: 'string', format: 'date-time' },
            with_content: { type: 'boolean' },
            tag: { type: 'string' },
            event_types: { type: 'string', maxLength: 8192 },
          },
        },
      },
    },
    async (request) => {
      const app = await visibleApp(store, request, request.params.app_id);
      const { channel, before, after, tag, event_types } = request.query;
      refuseSet({ tag }, 'the message list filter');
      const types = event_types === undefined ? [] : [...new Set(event_types.split(',').filter((name) => name !== ''))];
      if (types.length > MAX_EVENT_TYPES || types.some((name) => !new RegExp(NAME_PATTERN).test(name))) {
        throw new HookyardError('validation_error', `event_types must be up to ${MAX_EVENT_TYPES} event type names`, [{ path: '/query/event_types', message: 'invalid' }]);
      }
      const filter: MessageFilter = {
        channel,
        before: before === undefined ? undefined : Date.parse(before),
        after: after === undefined ? undefined : Date.parse(after),
      };
      const page = svixPageQuery(request.query);
      const byType = (eventType: string | undefined) => (p: PageQuery) => store.listMessages(app.id, { ...filter, eventType }, p);
      const result = types.length <= 1 ? await byType(types[0])(page) : await mergedPage(types.map(byType), page);
      const withContent = request.query.with_content !== false;
      return svixList(result, (message: Message) => messageOut(message, withContent));
    },
  );

  api.get<{ Params: { app_id: string; msg_id: string }; Querystring: { with_content?: boolean } }>(
    '/api/v1/app/:app_id/msg/:msg_id',
    { schema: { tags, summary: 'Svix: get a message by id', params: msgParams, querystring: withContentQuery } },
    async (request) => {
      const app = await visibleApp(store, request, request.params.app_id);
      const message = await store.getMessage(app.id, request.params.msg_id);
      if (!message) throw notFound('message');
      return messageOut(message, request.query.with_content !== false);
    },
  );
}
