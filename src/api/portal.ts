import type { FastifyInstance } from 'fastify';
import { MAX_PORTAL_EXPIRY_SECONDS, type PortalAccessInput } from '../domain/portal.js';
import { HookyardError, notFound } from '../errors.js';
import type { Services } from '../services.js';
import { principalOf, visibleApp } from './auth.js';
import { errorResponses } from './schemas.js';

const appParams = { type: 'object', required: ['app'], properties: { app: { type: 'string', maxLength: 256 } } } as const;

export const portalAccessBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    expirySeconds: { type: 'integer', minimum: 60, maximum: MAX_PORTAL_EXPIRY_SECONDS },
    readOnly: { type: 'boolean' },
  },
} as const;

/** Consumer portal sessions: minting one (for an operator to hand to a customer) and what the page learns of it. */
export function portalRoutes(api: FastifyInstance, { store, portal }: Services): void {
  api.post<{ Params: { app: string }; Body: PortalAccessInput | null }>(
    '/api/v1/apps/:app/portal-access',
    {
      schema: {
        tags: ['apps'],
        summary: "A consumer portal session for this app's customer: a URL to open or embed, and its short-lived token",
        description: 'The token is app-scoped, expires after expirySeconds (default 3600), appears among the app keys (kind "portal") and is revoked like one.',
        params: appParams,
        body: portalAccessBody,
        response: {
          201: { type: 'object', properties: { url: { type: 'string' }, token: { type: 'string' }, keyId: { type: 'string' }, expiresAt: { type: 'string' } } },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      if (principalOf(request).kind === 'portal') throw new HookyardError('forbidden', 'a portal session cannot open another');
      const app = await visibleApp(store, request, request.params.app);
      const access = await portal.createAccess(app, request.body ?? {}, `${request.protocol}://${request.host}`);
      return reply.code(201).send({ url: access.url, token: access.token, keyId: access.key.id, expiresAt: new Date(access.key.expiresAt!).toISOString() });
    },
  );

  api.get(
    '/api/v1/portal/session',
    { schema: { tags: ['apps'], summary: "The portal session's app, theme and expiry (any app-scoped token)", response: errorResponses } },
    async (request) => {
      const principal = principalOf(request);
      if (principal.appId === null) throw new HookyardError('forbidden', 'only an app-scoped token has a portal session');
      const app = await store.getApp(principal.appId);
      if (!app) throw notFound('app');
      const key = principal.kind === 'portal' ? (await store.listApiKeys(app.id)).find((k) => k.id === principal.keyId) : undefined;
      return {
        app: { id: app.id, uid: app.uid, name: app.name, portal: app.portal ?? { color: null, logoUrl: null } },
        expiresAt: key?.expiresAt == null ? null : new Date(key.expiresAt).toISOString(),
        readOnly: principal.readOnly,
      };
    },
  );
}
