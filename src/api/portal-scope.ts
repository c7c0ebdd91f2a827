import type { FastifyRequest } from 'fastify';
import { HookyardError } from '../errors.js';

/**
 * What a consumer portal token may call: the routes the portal page uses, on its own app (visibleApp holds it to
 * that). An app key may do more (send messages, for one); a portal session is a customer's browser, so it gets only
 * this list, and with `readOnly` only its reads. Matched on the route's pattern, not the raw URL.
 */
const PORTAL_ROUTES: ReadonlySet<string> = new Set([
  'GET /api/v1/portal/session',
  'GET /api/v1/event-types',
  'GET /api/v1/event-types/:name',
  'GET /api/v1/apps/:app',
  'GET /api/v1/apps/:app/endpoints',
  'POST /api/v1/apps/:app/endpoints',
  'GET /api/v1/apps/:app/endpoints/:ep',
  'PATCH /api/v1/apps/:app/endpoints/:ep',
  'DELETE /api/v1/apps/:app/endpoints/:ep',
  'GET /api/v1/apps/:app/endpoints/:ep/secret',
  'POST /api/v1/apps/:app/endpoints/:ep/secret/rotate',
  'POST /api/v1/apps/:app/endpoints/:ep/recover',
  'GET /api/v1/apps/:app/endpoints/:ep/attempts',
  'POST /api/v1/apps/:app/endpoints/:ep/test',
  'GET /api/v1/apps/:app/messages',
  'GET /api/v1/apps/:app/messages/:msg',
  'GET /api/v1/apps/:app/messages/:msg/deliveries',
  'GET /api/v1/apps/:app/messages/:msg/attempts',
  'POST /api/v1/apps/:app/messages/:msg/endpoints/:ep/resend',
]);

/** Refuses a portal session's call outside the portal's routes (403), or a write of a read-only one. */
export function checkPortalScope(request: FastifyRequest): void {
  const principal = request.principal;
  if (principal?.kind !== 'portal') return;
  const route = `${request.method} ${request.routeOptions.url ?? ''}`;
  if (!PORTAL_ROUTES.has(route)) throw new HookyardError('forbidden', 'a portal session cannot make this call');
  if (principal.readOnly && request.method !== 'GET') throw new HookyardError('forbidden', 'this portal session is read-only');
}
