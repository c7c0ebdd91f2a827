import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InboundReceiver, ReceivedRequest } from './receiver.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * The receiving URLs `/in/<name>[/*]` and `/webhooks/<name>[/*]`. Bodies are taken as raw bytes whatever their type
 * (signatures are computed over them); a body over the limit is still recorded, as a 413.
 */
export async function inboundRoutes(app: FastifyInstance, receiver: InboundReceiver, maxBodyBytes: number): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_request, body, done) => done(null, body));
    scope.setErrorHandler(async (error: Error & { code?: string; statusCode?: number }, request, reply) => {
      // Refused before the route ran, but addressed to a source: stored like any refusal.
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return answer(request, reply, receiver, 'too_large');
      if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return answer(request, reply, receiver, 'invalid_media_type');
      const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
      if (status === 500) request.log.error({ err: error }, 'inbound request failed');
      return reply.code(status).send({ code: status === 500 ? 'internal_error' : 'bad_request', message: status === 500 ? 'internal error' : error.message });
    });
    for (const prefix of ['/in', '/webhooks']) {
      for (const url of [`${prefix}/:name`, `${prefix}/:name/*`]) {
        scope.route({ method: [...METHODS], url, schema: { hide: true }, handler: (request, reply) => answer(request, reply, receiver, null) });
      }
    }
  });
}

async function answer(
  request: FastifyRequest,
  reply: FastifyReply,
  receiver: InboundReceiver,
  bodyProblem: ReceivedRequest['bodyProblem'],
): Promise<FastifyReply> {
  const params = request.params as { name?: string; '*'?: string };
  const queryAt = request.url.indexOf('?');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const result = await receiver.receive({
    sourceName: params.name ?? '',
    path: params['*'] ?? '',
    method: request.method,
    query: queryAt === -1 ? '' : request.url.slice(queryAt + 1),
    url: `${request.protocol}://${request.host}${request.url}`,
    // Undefined once the client has gone; the allowlist then fails closed.
    ip: request.ip ?? '',
    headers,
    body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    bodyProblem,
  });
  return reply.code(result.status).headers(result.headers).send(result.body);
}
