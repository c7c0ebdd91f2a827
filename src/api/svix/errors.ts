import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HookyardError } from '../../errors.js';
import { STATUS_CODES } from '../error-handler.js';

/** One entry of Svix's 422 body (`HTTPValidationError.detail`). */
interface SvixValidationIssue {
  loc: string[];
  msg: string;
  type: string;
}

/** A call, field or value of the Svix API that Hookyard has no counterpart for: 400 `not_supported`, never a silent no-op. */
export const notSupported = (what: string): HookyardError =>
  new HookyardError('not_supported', `${what} is not supported by Hookyard's Svix-compatible API`);

/** Refuses a Svix field that is set to anything but its "off" value (undefined, null, false, an empty list or object). */
export function refuseSet(fields: Record<string, unknown>, where: string): void {
  for (const [name, value] of Object.entries(fields)) {
    const off = value === undefined || value === null || value === false
      || (Array.isArray(value) && value.length === 0)
      || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
    if (!off) throw notSupported(`${where} "${name}"`);
  }
}

// Svix (FastAPI-style) names the parts of a request "body", "query" and "path".
const PART: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** Hookyard's `{path: "/body/url", message}` details → Svix's `{loc: ["body", "url"], msg, type}`. */
function fromDetails(error: HookyardError): SvixValidationIssue[] {
  const details = Array.isArray(error.details) ? (error.details as Array<{ path?: unknown; message?: unknown }>) : [];
  const issues = details
    .filter((d) => typeof d.path === 'string')
    .map((d) => ({ loc: (d.path as string).split('/').filter((part) => part !== ''), msg: String(d.message ?? error.message), type: `value_error.${error.code}` }));
  return issues.length > 0 ? issues : [{ loc: ['body'], msg: error.message, type: `value_error.${error.code}` }];
}

function fromAjv(error: FastifyError): SvixValidationIssue[] {
  const part = PART[error.validationContext ?? 'body'] ?? 'body';
  return (error.validation ?? []).map((issue) => {
    const loc = [part, ...issue.instancePath.split('/').filter((p) => p !== '')];
    const params = issue.params as { additionalProperty?: string; missingProperty?: string };
    if (issue.keyword === 'additionalProperties' && params.additionalProperty) {
      return { loc: [...loc, params.additionalProperty], msg: 'unknown field', type: 'value_error.extra' };
    }
    if (issue.keyword === 'required' && params.missingProperty) {
      return { loc: [...loc, params.missingProperty], msg: 'field required', type: 'value_error.missing' };
    }
    return { loc, msg: issue.message ?? 'invalid', type: issue.keyword === 'type' ? 'type_error' : `value_error.${issue.keyword}` };
  });
}

/**
 * Errors leave the Svix routes in Svix's shapes, which the SDKs surface as `ApiException.body`: 422 `{detail: [{loc,
 * msg, type}]}`, any other 4xx `{code, detail}`. Codes are Hookyard's registered ones (docs/errors.md); internal
 * failures are logged in full and answered with a bare 500, as on Hookyard's own routes.
 */
export function svixErrorHandler(error: FastifyError | HookyardError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof HookyardError) {
    if (error.statusCode === 422) return reply.code(422).send({ detail: fromDetails(error) });
    const existing = (error.details as { id?: unknown } | undefined)?.id;
    const detail = typeof existing === 'string' ? `${error.message} (id: ${existing})` : error.message;
    return reply.code(error.statusCode).send({ code: error.code, detail });
  }
  if ('validation' in error && error.validation) return reply.code(422).send({ detail: fromAjv(error) });
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = STATUS_CODES[status] ?? 'bad_request';
    return reply.code(status).send({ code, detail: error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'body is not valid JSON' : error.message });
  }
  request.log.error({ err: error }, 'request failed');
  return reply.code(500).send({ code: 'internal_error', detail: 'internal error' });
}
