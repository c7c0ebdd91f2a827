import type { FastifyInstance } from 'fastify';
import { hashToken, newApiToken } from '../crypto/tokens.js';
import { HookyardError, notFound } from '../errors.js';
import { hasPrefix, newId } from '../ids.js';
import type { Services } from '../services.js';
import type { App, Json } from '../store/store.js';
import { requireAdmin, visibleApp } from './auth.js';
import { listResponse, pageQuery, type ListQuery } from './pagination.js';
import { appBody, errorResponses, listOf, listQuery, ref } from './schemas.js';
import { apiKeyJson, appJson } from './serialize.js';

interface AppBody {
  name?: string;
  uid?: string | null;
  metadata?: Json;
  portal?: { color?: string | null; logoUrl?: string | null } | null;
}

const portalTheme = (portal: AppBody['portal']): App['portal'] =>
  portal === undefined || portal === null ? null : { color: portal.color ?? null, logoUrl: portal.logoUrl ?? null };

const appParams = { type: 'object', properties: { app: { type: 'string', maxLength: 256 } }, required: ['app'] } as const;

export function checkUid(uid: string | null | undefined): void {
  // An app is addressed by id or uid in the same path segment, so a uid must not look like an id.
  if (typeof uid === 'string' && hasPrefix(uid, 'app')) {
    throw new HookyardError('validation_error', 'uid must not start with "app_"', [{ path: '/body/uid', message: 'must not start with "app_"' }]);
  }
}

export function appRoutes(api: FastifyInstance, { store }: Services): void {
  api.post<{ Body: AppBody }>(
    '/api/v1/apps',
    { schema: { tags: ['apps'], summary: 'Create an app (a tenant)', body: { ...appBody, required: ['name'] }, response: { 201: ref('App'), ...errorResponses } } },
    async (request, reply) => {
      requireAdmin(request);
      checkUid(request.body.uid);
      const now = Date.now();
      const app: App = { id: newId('app', now), uid: request.body.uid ?? null, name: request.body.name!, metadata: request.body.metadata ?? {}, portal: portalTheme(request.body.portal), createdAt: now, updatedAt: now };
      return reply.code(201).send(appJson(await store.createApp(app)));
    },
  );

  api.get<{ Querystring: ListQuery }>(
    '/api/v1/apps',
    { schema: { tags: ['apps'], summary: 'List apps', querystring: listQuery, response: { 200: listOf('App'), ...errorResponses } } },
    async (request) => {
      requireAdmin(request);
      return listResponse(await store.listApps(pageQuery(request.query)), appJson);
    },
  );

  api.get<{ Params: { app: string } }>(
    '/api/v1/apps/:app',
    { schema: { tags: ['apps'], summary: 'Get an app by id or uid', params: appParams, response: { 200: ref('App'), ...errorResponses } } },
    async (request) => appJson(await visibleApp(store, request, request.params.app)),
  );

  api.patch<{ Params: { app: string }; Body: AppBody }>(
    '/api/v1/apps/:app',
    { schema: { tags: ['apps'], summary: 'Update an app', params: appParams, body: appBody, response: { 200: ref('App'), ...errorResponses } } },
    async (request) => {
      requireAdmin(request);
      checkUid(request.body.uid);
      const app = await visibleApp(store, request, request.params.app);
      const { portal, ...rest } = request.body;
      const updated = await store.updateApp(app.id, portal === undefined ? rest : { ...rest, portal: portalTheme(portal) }, Date.now());
      if (!updated) throw notFound('app');
      return appJson(updated);
    },
  );

  api.delete<{ Params: { app: string } }>(
    '/api/v1/apps/:app',
    { schema: { tags: ['apps'], summary: 'Delete an app with its endpoints, messages and attempts', params: appParams, response: errorResponses } },
    async (request, reply) => {
      requireAdmin(request);
      const app = await visibleApp(store, request, request.params.app);
      await store.deleteApp(app.id);
      return reply.code(204).send();
    },
  );

  api.post<{ Params: { app: string }; Body: { name?: string } }>(
    '/api/v1/apps/:app/keys',
    {
      schema: {
        tags: ['apps'],
        summary: 'Create an app-scoped API key (the token is shown once)',
        params: appParams,
        body: { type: 'object', additionalProperties: false, properties: { name: { type: 'string', maxLength: 256 } } },
        response: { 201: ref('ApiKey'), ...errorResponses },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const app = await visibleApp(store, request, request.params.app);
      const token = newApiToken('app');
      const key = await store.createApiKey({ id: newId('key'), appId: app.id, name: request.body?.name ?? null, kind: 'api', expiresAt: null, readOnly: false, createdAt: Date.now() }, hashToken(token));
      return reply.code(201).send(apiKeyJson(key, token));
    },
  );

  api.get<{ Params: { app: string } }>(
    '/api/v1/apps/:app/keys',
    { schema: { tags: ['apps'], summary: "List an app's keys (never their tokens)", params: appParams, response: { 200: listOf('ApiKey'), ...errorResponses } } },
    async (request) => {
      requireAdmin(request);
      const app = await visibleApp(store, request, request.params.app);
      return { data: (await store.listApiKeys(app.id)).map((key) => apiKeyJson(key)), nextCursor: null };
    },
  );

  api.delete<{ Params: { app: string; key: string } }>(
    '/api/v1/apps/:app/keys/:key',
    { schema: { tags: ['apps'], summary: 'Revoke an app key', response: errorResponses } },
    async (request, reply) => {
      requireAdmin(request);
      const app = await visibleApp(store, request, request.params.app);
      if (!(await store.deleteApiKey(app.id, request.params.key))) throw notFound('key');
      return reply.code(204).send();
    },
  );
}
