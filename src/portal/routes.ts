import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { loadAssets, notFound, sendAsset } from '../dashboard/routes.js';

// Resolves to src/portal/public from both src/portal (tests) and dist/portal (the built server).
const PUBLIC_ROOT = fileURLToPath(new URL('../../src/portal/public/', import.meta.url));

/**
 * The consumer portal's page: `/portal` and its assets under `/portal/assets/`. The page holds no data of its own: it
 * reads the session token from the URL fragment and calls the API with it (api/portal-scope.ts says what it may).
 * Unlike the dashboard it may be framed, by the origins in HOOKYARD_PORTAL_FRAME_ANCESTORS; logos may be remote
 * https images.
 */
export async function portalPageRoutes(app: FastifyInstance, options: { frameAncestors: readonly string[] }): Promise<void> {
  const assets = existsSync(PUBLIC_ROOT) ? loadAssets(PUBLIC_ROOT) : new Map();
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: https:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${options.frameAncestors.join(' ')}`,
    "object-src 'none'",
  ].join('; ');

  app.get('/portal', { schema: { hide: true } }, async (request, reply) => {
    const index = assets.get('index.html');
    return index ? sendAsset(request, reply, index, csp) : notFound(request, reply);
  });
  app.get<{ Params: { '*': string } }>('/portal/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const asset = assets.get(request.params['*']);
    return asset ? sendAsset(request, reply, asset, csp) : notFound(request, reply);
  });
}
