import type { FastifyInstance } from 'fastify';
import { MAX_PORTAL_EXPIRY_SECONDS } from '../../domain/portal.js';
import type { Services } from '../../services.js';
import { applicationInSchema, svixApp, type ApplicationIn } from './applications.js';
import { notSupported, refuseSet } from './errors.js';
import { appParams } from './endpoints.js';

/** Svix's AppPortalAccessIn. */
interface AppPortalAccessIn {
  application?: ApplicationIn | null;
  capabilities?: string[] | null;
  expiry?: number | null;
  featureFlags?: string[];
  readOnly?: boolean | null;
  sessionId?: string | null;
}

const CAPABILITIES = ['ViewBase', 'ViewEndpointSecret', 'ManageEndpointSecret', 'ManageTransformations', 'CreateAttempts', 'ManageEndpoint'] as const;
// What Hookyard's two kinds of portal session allow: a read-only one sees everything, secrets included; a full one
// also manages endpoints, secrets and resends (there are no transformations to manage).
const READ_ONLY = new Set(['ViewBase', 'ViewEndpointSecret']);
const FULL = new Set(['ViewBase', 'ViewEndpointSecret', 'ManageEndpointSecret', 'CreateAttempts', 'ManageEndpoint']);

/**
 * Capabilities map onto a read-only or a full session only when they ask for exactly what one allows: any other
 * set is refused rather than widened.
 */
function readOnlyOf(body: AppPortalAccessIn): boolean {
  if (body.capabilities == null) return body.readOnly === true;
  const asked = new Set(body.capabilities.filter((c) => c !== 'ManageTransformations'));
  const equals = (set: Set<string>) => asked.size === set.size && [...asked].every((c) => set.has(c));
  if (equals(READ_ONLY)) return true;
  if (equals(FULL) && body.readOnly !== true) return false;
  throw notSupported(`the capability set [${body.capabilities.join(', ')}] (Hookyard portals are either [${[...READ_ONLY].join(', ')}] or all capabilities)`);
}

export function authRoutes(api: FastifyInstance, { store, portal }: Services): void {
  api.post<{ Params: { app_id: string }; Body: AppPortalAccessIn | null }>(
    '/api/v1/auth/app-portal-access/:app_id',
    {
      schema: {
        tags: ['svix'],
        summary: "Svix: a consumer portal session for this application's customer: {url, token}",
        params: appParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            application: { ...applicationInSchema, type: ['object', 'null'], required: ['name'] },
            capabilities: { type: ['array', 'null'], items: { type: 'string', enum: CAPABILITIES } },
            expiry: { type: ['integer', 'null'], minimum: 60, maximum: MAX_PORTAL_EXPIRY_SECONDS },
            featureFlags: { type: 'array', items: { type: 'string' } },
            readOnly: { type: ['boolean', 'null'] },
            sessionId: { type: ['string', 'null'] },
          },
        },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      refuseSet({ featureFlags: body.featureFlags, sessionId: body.sessionId }, 'the portal access field');
      const readOnly = readOnlyOf(body);
      const app = await svixApp(store, request, request.params.app_id, body.application);
      const access = await portal.createAccess(app, { expirySeconds: body.expiry ?? undefined, readOnly }, `${request.protocol}://${request.host}`);
      return { url: access.url, token: access.token };
    },
  );
}
