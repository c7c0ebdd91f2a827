import type { FastifyError, FastifyInstance } from 'fastify';
import { HookyardError, type ErrorCode } from '../errors.js';

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
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
