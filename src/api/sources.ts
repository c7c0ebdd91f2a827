import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SourceInput } from '../domain/sources.js';
import { notFound } from '../errors.js';
import { idFloor, idTime } from '../ids.js';
import type { Services } from '../services.js';
import type { InboundRecord, RequestStatus, Source } from '../store/store.js';
import { requireAdmin } from './auth.js';
import { listResponse, pageQuery, type ListQuery } from './pagination.js';
import { errorResponses, listOf, listQuery, ref, sourceBody } from './schemas.js';
import { inboundRequestJson, sourceJson } from './serialize.js';

const srcParams = { type: 'object', required: ['src'], properties: { src: { type: 'string', maxLength: 256 } } } as const;
const reqParams = {
  type: 'object',
  required: ['src', 'req'],
  properties: { src: { type: 'string', maxLength: 256 }, req: { type: 'string', maxLength: 64 } },
} as const;
const requestListQuery = {
  ...listQuery,
  properties: { ...listQuery.properties, status: { enum: ['accepted', 'rejected', 'duplicate'] } },
} as const;

const STREAM_POLL_MS = 500;
const STREAM_KEEPALIVE_MS = 15_000;
const STREAM_PAGE = 100;
/** How long after a later-id request was streamed a request that commits late (on another node) is still streamed. */
const STREAM_SETTLE_MS = 5_000;
/** At most this many ids behind the cursor are looked at for late commits (200 requests/s for the whole window). */
const STREAM_LOOKBACK_IDS = 1_000;

/** Where this server is reached, as the client addressed it (for the `url` of a source). */
const baseUrlOf = (request: FastifyRequest): string => `${request.protocol}://${request.host}`;

/** Sources and their request logs; admin only (sources belong to the installation, not to an app). */
export function sourceRoutes(api: FastifyInstance, { store, sources, jobSignal, inboundFeed }: Services): void {
  async function load(request: FastifyRequest<{ Params: { src: string } }>): Promise<Source> {
    requireAdmin(request);
    const source = await store.getSource(request.params.src);
    if (!source) throw notFound('source');
    return source;
  }

  api.post<{ Body: SourceInput & { name: string } }>(
    '/api/v1/sources',
    {
      schema: {
        tags: ['sources'],
        summary: 'Create a source: a receiving URL with verification, dedup, response mode, handler and forwards',
        body: { ...sourceBody, required: ['name'] },
        response: { 201: ref('Source'), ...errorResponses },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const source = await sources.create(request.body);
      return reply.code(201).send(sourceJson(source, baseUrlOf(request)));
    },
  );

  api.get<{ Querystring: ListQuery }>(
    '/api/v1/sources',
    { schema: { tags: ['sources'], summary: 'List sources', querystring: listQuery, response: { 200: listOf('Source'), ...errorResponses } } },
    async (request) => {
      requireAdmin(request);
      return listResponse(await store.listSources(pageQuery(request.query)), (source) => sourceJson(source, baseUrlOf(request)));
    },
  );

  api.get<{ Params: { src: string } }>(
    '/api/v1/sources/:src',
    { schema: { tags: ['sources'], summary: 'Get a source by id or name', params: srcParams, response: { 200: ref('Source'), ...errorResponses } } },
    async (request) => sourceJson(await load(request), baseUrlOf(request)),
  );

  api.patch<{ Params: { src: string }; Body: SourceInput }>(
    '/api/v1/sources/:src',
    { schema: { tags: ['sources'], summary: 'Update a source', params: srcParams, body: sourceBody, response: { 200: ref('Source'), ...errorResponses } } },
    async (request) => {
      const source = await load(request);
      const updated = await sources.update(source.id, request.body);
      if (!updated) throw notFound('source');
      return sourceJson(updated, baseUrlOf(request));
    },
  );

  api.delete<{ Params: { src: string } }>(
    '/api/v1/sources/:src',
    { schema: { tags: ['sources'], summary: 'Delete a source with its request log', params: srcParams, response: errorResponses } },
    async (request, reply) => {
      const source = await load(request);
      await sources.delete(source.id);
      return reply.code(204).send();
    },
  );

  api.get<{ Params: { src: string }; Querystring: ListQuery & { status?: RequestStatus } }>(
    '/api/v1/sources/:src/requests',
    {
      schema: {
        tags: ['sources'],
        summary: "A source's requests, newest first",
        params: srcParams,
        querystring: requestListQuery,
        response: { 200: listOf('InboundRequest'), ...errorResponses },
      },
    },
    async (request) => {
      const source = await load(request);
      return listResponse(await store.listRequests(source.id, { status: request.query.status }, pageQuery(request.query)), inboundRequestJson);
    },
  );

  api.get<{ Params: { src: string; req: string } }>(
    '/api/v1/sources/:src/requests/:req',
    { schema: { tags: ['sources'], summary: 'One request, byte-exact, with its processing result', params: reqParams, response: { 200: ref('InboundRequest'), ...errorResponses } } },
    async (request) => {
      const source = await load(request);
      const record = await store.getRequest(source.id, request.params.req);
      if (!record) throw notFound('request');
      return inboundRequestJson(record);
    },
  );

  api.post<{ Params: { src: string; req: string } }>(
    '/api/v1/sources/:src/requests/:req/replay',
    {
      schema: {
        tags: ['sources'],
        summary: "Run the request's processing (handler and forwards) again",
        params: reqParams,
        response: { 202: { type: 'object', properties: { id: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const source = await load(request);
      if (!(await store.requeueRequest(source.id, request.params.req, Date.now()))) throw notFound('request');
      jobSignal.notify();
      return reply.code(202).send({ id: request.params.req });
    },
  );

  api.get<{ Params: { src: string } }>(
    '/api/v1/sources/:src/stream',
    { schema: { tags: ['sources'], summary: 'Server-Sent Events: one `request` event per new request (Last-Event-ID resumes)', params: srcParams } },
    async (request, reply) => {
      const source = await load(request);
      await streamRequests(request, reply, source, store, inboundFeed);
    },
  );
}

/**
 * Streams a source's new requests as SSE. New requests are read from the store (so requests received by other nodes
 * show too), woken at once by this node's receiver and otherwise every half second.
 *
 * Two nodes' commits can land out of id order, so besides reading forward from the cursor (the highest id sent), the
 * loop looks back over the ids of the last STREAM_SETTLE_MS behind it for ones it has not sent, at most once per
 * STREAM_POLL_MS. The event id is that cursor, not the request's own id: a late request is sent after later ids, and a
 * client resuming from its own id would be sent those again.
 */
async function streamRequests(
  request: FastifyRequest,
  reply: FastifyReply,
  source: Source,
  store: Services['store'],
  feed: Services['inboundFeed'],
): Promise<void> {
  const headers = {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  };
  // HEAD (the route Fastify adds beside GET) gets the headers alone: Node holds a HEAD response's headers until it
  // ends, and the stream never would.
  if (request.method === 'HEAD') return void reply.code(200).headers(headers).send();
  const resume = request.headers['last-event-id'];
  // Nothing at or before `start` is ever sent on this connection, even inside the settle window: a client resuming
  // with Last-Event-ID has everything up to it as far as it knows, so a reconnect never gets a request twice (one that
  // committed late below it stays in the log only); a fresh connection starts after the newest request there is.
  const start = typeof resume === 'string' && resume !== '' ? resume : (await store.listRequests(source.id, {}, { limit: 1 })).data[0]?.id ?? '';
  let cursor = start;
  // The look-back reads ids in (floor, cursor); `sent` holds the ids sent above the floor, pruned as it moves.
  let floor = start;
  const sent = new Set<string>();
  let lookedBackAt = 0;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, headers);
  res.write(': connected\n\n');

  const send = (record: InboundRecord) => {
    if (record.id > cursor) cursor = record.id;
    sent.add(record.id);
    res.write(`id: ${cursor}\nevent: request\ndata: ${JSON.stringify(inboundRequestJson(record))}\n\n`);
  };

  let closed = false;
  let wake: (() => void) | undefined;
  const unsubscribe = feed.subscribe(source.id, () => wake?.());
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), STREAM_KEEPALIVE_MS);
  request.raw.on('close', () => {
    closed = true;
    wake?.();
  });
  try {
    while (!closed) {
      // The look-back runs on the poll clock, not on every wake: under load the receiver wakes the loop per request,
      // and the forward read alone keeps up with those.
      if (Date.now() - lookedBackAt >= STREAM_POLL_MS) {
        lookedBackAt = Date.now();
        const settled = settleFloor(cursor);
        if (settled > floor) floor = settled;
        for (const id of sent) if (id <= floor) sent.delete(id);
        // Newest first and capped, so a busy source costs one bounded index read; when more than the cap sit in the
        // window, the floor moves up to the oldest id read (late commits land just behind the cursor, not 5 s back).
        const ids = floor < cursor ? await store.listRequestIdsBetween(source.id, floor, cursor, STREAM_LOOKBACK_IDS) : [];
        for (const id of ids.filter((id) => !sent.has(id)).reverse()) {
          const late = await store.getRequest(source.id, id);
          if (late) send(late);
        }
        if (ids.length === STREAM_LOOKBACK_IDS) floor = ids[ids.length - 1]!;
      }
      // The forward read always moves the cursor on, so a full page re-polls at once without ever re-reading a row.
      const fresh: InboundRecord[] = await store.listRequestsSince(source.id, cursor, STREAM_PAGE);
      for (const record of fresh) send(record);
      if (fresh.length === STREAM_PAGE) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STREAM_POLL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    unsubscribe();
    clearInterval(keepAlive);
    res.end();
  }
}

/** The smallest id minted STREAM_SETTLE_MS before `cursor` ('' when the cursor is no request id: a client's Last-Event-ID). */
function settleFloor(cursor: string): string {
  const time = idTime('req', cursor);
  return time === null ? '' : idFloor('req', Math.max(0, time - STREAM_SETTLE_MS));
}
