import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HookyardError, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import type { Services } from '../../services.js';
import type { App, Store } from '../../store/store.js';
import { checkUid } from '../apps.js';
import { requireAdmin, visibleApp } from '../auth.js';
import { NAME_PATTERN } from '../schemas.js';
import { refuseSet } from './errors.js';
import { orderQuery, svixList, svixListQuery, svixPageQuery, type SvixListQuery } from './pagination.js';
import { applicationOut } from './serialize.js';

/** Svix's ApplicationIn / ApplicationPatch. */
export interface ApplicationIn {
  name?: string;
  uid?: string | null;
  metadata?: Record<string, string>;
  rateLimit?: number | null;
  throttleRate?: number | null;
}

export const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export const applicationInSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 256 },
    uid: { type: ['string', 'null'], minLength: 1, maxLength: 256, pattern: NAME_PATTERN },
    metadata: stringMap,
    rateLimit: { type: ['integer', 'null'] },
    throttleRate: { type: ['integer', 'null'] },
  },
} as const;

const appParams = { type: 'object', required: ['app_id'], properties: { app_id: { type: 'string', maxLength: 256 } } } as const;
const tags = ['svix'];

function checkApplicationIn(body: ApplicationIn): void {
  // Hookyard has no per-app rate limit (endpoints have one).
  refuseSet({ rateLimit: body.rateLimit, throttleRate: body.throttleRate }, 'the application field');
  checkUid(body.uid);
}

async function createApp(store: Store, body: ApplicationIn & { name: string }, uid: string | null): Promise<App> {
  const now = Date.now();
  return store.createApp({ id: newId('app', now), uid, name: body.name, metadata: body.metadata ?? {}, portal: null, createdAt: now, updatedAt: now });
}

/**
 * The app of a Svix path (`{app_id}` is an id or a uid). With `application` (MessageIn, AppPortalAccessIn), a missing
 * app is created with the path's value as its uid, as Svix does; that needs the admin token.
 */
export async function svixApp(store: Store, request: FastifyRequest, idOrUid: string, application?: ApplicationIn | null): Promise<App> {
  try {
    return await visibleApp(store, request, idOrUid);
  } catch (err) {
    if (!application || !(err instanceof HookyardError) || err.code !== 'not_found') throw err;
    requireAdmin(request);
    const body = { ...application, name: application.name ?? idOrUid, uid: application.uid ?? idOrUid };
    checkApplicationIn(body);
    try {
      return await createApp(store, body, body.uid);
    } catch (createErr) {
      // Created by a concurrent call meanwhile.
      if (createErr instanceof HookyardError && createErr.code === 'conflict') return visibleApp(store, request, idOrUid);
      throw createErr;
    }
  }
}

export function applicationRoutes(api: FastifyInstance, { store }: Services): void {
  api.post<{ Body: ApplicationIn & { name: string }; Querystring: { get_if_exists?: boolean } }>(
    '/api/v1/app',
    {
      schema: {
        tags,
        summary: 'Svix: create an application (get_if_exists=true: or return the one with this uid)',
        querystring: { type: 'object', properties: { get_if_exists: { type: 'boolean' } } },
        body: { ...applicationInSchema, required: ['name'] },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      checkApplicationIn(request.body);
      const uid = request.body.uid ?? null;
      const existing = async () => (request.query.get_if_exists && uid !== null ? store.getApp(uid) : null);
      const found = await existing();
      if (found) return reply.code(200).send(applicationOut(found));
      try {
        return reply.code(201).send(applicationOut(await createApp(store, request.body, uid)));
      } catch (err) {
        const raced = err instanceof HookyardError && err.code === 'conflict' ? await existing() : null;
        if (raced) return reply.code(200).send(applicationOut(raced));
        throw err;
      }
    },
  );

  api.get<{ Querystring: SvixListQuery & Record<string, unknown> }>(
    '/api/v1/app',
    {
      schema: {
        tags,
        summary: 'Svix: list applications, oldest first',
        querystring: {
          type: 'object',
          properties: {
            ...svixListQuery,
            order: orderQuery,
            exclude_apps_with_no_endpoints: { type: 'boolean' },
            exclude_apps_with_disabled_endpoints: { type: 'boolean' },
            exclude_apps_with_svix_play_endpoints: { type: 'boolean' },
          },
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      const { exclude_apps_with_no_endpoints, exclude_apps_with_disabled_endpoints, exclude_apps_with_svix_play_endpoints } = request.query;
      refuseSet({ exclude_apps_with_no_endpoints, exclude_apps_with_disabled_endpoints, exclude_apps_with_svix_play_endpoints }, 'the list filter');
      return svixList(await store.listApps(svixPageQuery(request.query, 'ascending')), applicationOut);
    },
  );

  api.get<{ Params: { app_id: string } }>(
    '/api/v1/app/:app_id',
    { schema: { tags, summary: 'Svix: get an application by id or uid', params: appParams } },
    async (request) => applicationOut(await visibleApp(store, request, request.params.app_id)),
  );

  const update = async (request: FastifyRequest<{ Params: { app_id: string }; Body: ApplicationIn }>, replace: boolean) => {
    requireAdmin(request);
    checkApplicationIn(request.body);
    const app = await visibleApp(store, request, request.params.app_id);
    const { name, uid, metadata } = request.body;
    // PUT replaces the whole application (an omitted uid or metadata is cleared); PATCH changes what it names.
    const patch = replace
      ? { name: name!, uid: uid ?? null, metadata: metadata ?? {} }
      : { ...(name === undefined ? {} : { name }), ...(uid === undefined ? {} : { uid }), ...(metadata === undefined ? {} : { metadata }) };
    const updated = await store.updateApp(app.id, patch, Date.now());
    if (!updated) throw notFound('app');
    return applicationOut(updated);
  };

  api.put<{ Params: { app_id: string }; Body: ApplicationIn }>(
    '/api/v1/app/:app_id',
    { schema: { tags, summary: 'Svix: replace an application', params: appParams, body: { ...applicationInSchema, required: ['name'] } } },
    async (request) => update(request, true),
  );

  api.patch<{ Params: { app_id: string }; Body: ApplicationIn }>(
    '/api/v1/app/:app_id',
    { schema: { tags, summary: 'Svix: update an application', params: appParams, body: applicationInSchema } },
    async (request) => update(request, false),
  );

  api.delete<{ Params: { app_id: string } }>(
    '/api/v1/app/:app_id',
    { schema: { tags, summary: 'Svix: delete an application with its endpoints, messages and attempts', params: appParams } },
    async (request, reply) => {
      requireAdmin(request);
      const app = await visibleApp(store, request, request.params.app_id);
      await store.deleteApp(app.id);
      return reply.code(204).send();
    },
  );
}
