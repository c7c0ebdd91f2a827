import { STATUS_CODES as HTTP_STATUS_TEXT } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { ERROR_CODES, HookyardError, type ErrorCode } from '../errors.js';

/** The registered code of a 4xx that Fastify itself raises (bad JSON, wrong content type, body too large). */
export const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  414: 'uri_too_long',
  429: 'rate_limited',
  431: 'headers_too_large',
};

/** Every error leaves as `{code, message, details?}`; internal failures are logged in full and answered with a bare 500. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | HookyardError, request, reply) => {
    if (error instanceof HookyardError) return reply.code(error.statusCode).send(error.toJSON());
    if ('validation' in error && error.validation) {
      const details = error.validation.map((issue) => ({
        path: `/${error.validationContext ?? ''}${issue.instancePath}`.replace(/\/$/, ''),
        message:
          issue.keyword === 'additionalProperties'
            ? `unknown field "${(issue.params as { additionalProperty?: string }).additionalProperty}"`
            : (issue.message ?? 'invalid'),
      }));
      return reply.code(422).send({ code: 'validation_error', message: `invalid ${error.validationContext ?? 'request'}: ${details[0]?.message ?? ''}`, details });
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code = STATUS_CODES[status] ?? 'bad_request';
      return reply.code(status).send({ code, message: error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'body is not valid JSON' : error.message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ code: 'internal_error', message: 'internal error' });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ code: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });
}

/**
 * Paths Fastify's router refuses before any route runs (a broken percent-escape, a path parameter over
 * `maxParamLength`) get the same `{code, message}` body as every other error.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const [code, message]: [ErrorCode, string] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? ['uri_too_long', 'a path parameter is over 1,024 characters'] : ['bad_request', 'the URL is malformed'];
  reply.code(ERROR_CODES[code].status).send({ code, message });
}

/**
 * Requests Node's HTTP parser rejects (malformed, headers too large, too slow) never reach Fastify. Fastify's default
 * handler logs the error with its `rawPacket`, the request's raw bytes, Authorization and signature headers included;
 * this one logs only what went wrong, and answers with a registered code.
 */
export const clientErrorHandler: NonNullable<FastifyServerOptions['clientErrorHandler']> = function (
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, message]: [ErrorCode, string] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['request_timeout', 'the request was not received in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? ['headers_too_large', 'the request headers are too large']
        : ['bad_request', 'the request is not valid HTTP'];
  const status = ERROR_CODES[code].status;
  this.log.debug({ code: error.code, status }, 'client error');
  // Not into a response already under way (a malformed request pipelined behind a live stream): as Node's own handler.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify({ code, message });
    socket.write(`HTTP/1.1 ${status} ${HTTP_STATUS_TEXT[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
};
