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
/** Ids read per poll by the look-back for late commits; a longer window is swept over several polls. */
const STREAM_LOOKBACK_IDS = 2_000;

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

  // Open streams never end by themselves, and the server's close waits for every connection: end them when it closes.
  const openStreams = new Set<() => void>();
  api.addHook('preClose', async () => {
    for (const end of openStreams) end();
  });

  api.get<{ Params: { src: string } }>(
    '/api/v1/sources/:src/stream',
    { schema: { tags: ['sources'], summary: 'Server-Sent Events: one `request` event per new request (Last-Event-ID resumes)', params: srcParams } },
    async (request, reply) => {
      const source = await load(request);
      await streamRequests(request, reply, source, store, inboundFeed, openStreams);
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
  openStreams: Set<() => void>,
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
  // The look-back sweeps ids in (floor, cursor), oldest first, a page per poll from `scanFrom`; `sent` holds the ids
  // sent above the floor, pruned as it moves.
  let floor = start;
  let scanFrom = start;
  const sent = new Set<string>();
  let lookedBackAt = 0;
  reply.hijack();
  const res = reply.raw;

  let closed = false;
  let wake: (() => void) | undefined;
  const onClose = () => {
    closed = true;
    wake?.();
  };
  let shuttingDown = false;
  const onShutdown = () => {
    shuttingDown = true;
    onClose();
  };
  request.raw.on('close', onClose);
  res.on('close', onClose);
  openStreams.add(onShutdown);
  // The client may have gone during the awaits above, before these listeners: its 'close' has fired already.
  if (res.destroyed || request.raw.socket?.destroyed) closed = true;

  res.writeHead(200, headers);
  res.write(': connected\n\n');

  const send = (record: InboundRecord) => {
    if (record.id > cursor) cursor = record.id;
    sent.add(record.id);
    res.write(`id: ${cursor}\nevent: request\ndata: ${JSON.stringify(inboundRequestJson(record))}\n\n`);
  };
  /** Waits, up to `ms`, for the receiver's wake-up, the client's buffer to drain, or the client to leave. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        res.off('drain', done);
        wake = undefined;
        resolve();
      };
      wake = done;
      res.on('drain', done);
    });

  const unsubscribe = feed.subscribe(source.id, () => wake?.());
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), STREAM_KEEPALIVE_MS);
  try {
    while (!closed) {
      // A client that reads slowly (a `listen` waiting on its local server) holds the loop here rather than have its
      // events pile up in memory: with a resume from far back, the forward read could page through the whole log.
      if (res.writableNeedDrain) {
        await pause(STREAM_KEEPALIVE_MS);
        continue;
      }
      // The look-back runs on the poll clock, not on every wake: under load the receiver wakes the loop per request,
      // and the forward read alone keeps up with those.
      if (Date.now() - lookedBackAt >= STREAM_POLL_MS) {
        lookedBackAt = Date.now();
        const settled = settleFloor(cursor);
        if (settled > floor) floor = settled;
        for (const id of sent) if (id <= floor) sent.delete(id);
        if (scanFrom < floor) scanFrom = floor;
        // Oldest first from where the last page stopped, so a window holding more ids than a page (a busy source) is
        // swept over several polls and no id in it is passed over; the next sweep starts again at the floor.
        const ids = scanFrom < cursor ? await store.listRequestIdsBetween(source.id, scanFrom, cursor, STREAM_LOOKBACK_IDS) : [];
        for (const id of ids) {
          if (sent.has(id)) continue;
          const late = await store.getRequest(source.id, id);
          if (late) send(late);
        }
        scanFrom = ids.length === STREAM_LOOKBACK_IDS ? ids[ids.length - 1]! : floor;
      }
      // The forward read always moves the cursor on, so a full page re-polls at once without ever re-reading a row.
      const fresh: InboundRecord[] = await store.listRequestsSince(source.id, cursor, STREAM_PAGE);
      for (const record of fresh) send(record);
      if (fresh.length === STREAM_PAGE) continue;
      await pause(STREAM_POLL_MS);
    }
  } finally {
    unsubscribe();
    clearInterval(keepAlive);
    request.raw.off('close', onClose);
    res.off('close', onClose);
    openStreams.delete(onShutdown);
    res.end();
    // A kept-alive connection would otherwise stay open and hold the server's close; the client reconnects elsewhere.
    if (shuttingDown) res.socket?.end();
  }
}

/** The smallest id minted STREAM_SETTLE_MS before `cursor` ('' when the cursor is no request id: a client's Last-Event-ID). */
function settleFloor(cursor: string): string {
  const time = idTime('req', cursor);
  return time === null ? '' : idFloor('req', Math.max(0, time - STREAM_SETTLE_MS));
}
