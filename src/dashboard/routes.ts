import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

// Resolves to src/dashboard/public from both src/dashboard (tests) and dist/dashboard (the built server).
const PUBLIC_ROOT = fileURLToPath(new URL('../../src/dashboard/public/', import.meta.url));

/** Where the assets are served; `/` serves index.html. Nothing here can clash with /api, /in, /webhooks, /docs… */
export const DASHBOARD_PREFIX = '/dashboard/';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

// The page talks only to its own origin; no inline script or style, no framing.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * The assets, read once at startup into a map keyed by their path relative to public/. A request is answered only
 * when its path is a key of that map, so no request path ever reaches the file system (no traversal possible).
 */
export function loadAssets(root: string = PUBLIC_ROOT): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      const type = CONTENT_TYPES[extname(entry.name).toLowerCase()];
      if (!entry.isFile() || type === undefined) continue;
      const body = readFileSync(path);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      assets.set(relative(root, path).split(sep).join('/'), { body, type, etag });
    }
  };
  walk(root);
  return assets;
}

/** Answers with an asset under a Content-Security-Policy (the portal's allows framing by configured origins). */
export function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset, csp = CSP): FastifyReply {
  reply
    .header('content-type', asset.type)
    .header('etag', asset.etag)
    // No build step means no hashed file names: always revalidate (cheap with the ETag).
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', csp);
  // The CSP's frame-ancestors decides; the older header is for browsers that know only it.
  if (csp === CSP) reply.header('x-frame-options', 'DENY');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.send(asset.body);
}

export const notFound = (request: FastifyRequest, reply: FastifyReply): FastifyReply =>
  reply.code(404).send({ code: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` });

/** The web dashboard: `/` is the single page, `/dashboard/*` its assets. The data itself is behind the API's token. */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const assets = loadAssets();
  const index = assets.get('index.html');
  if (!index) throw new Error(`dashboard: index.html missing in ${PUBLIC_ROOT}`);


  app.get('/', { schema: { hide: true } }, async (request, reply) => sendAsset(request, reply, index));
  app.get('/dashboard', { schema: { hide: true } }, async (_request, reply) => reply.redirect('./', 302));
  app.get<{ Params: { '*': string } }>(`${DASHBOARD_PREFIX}*`, { schema: { hide: true } }, async (request, reply) => {
    const path = request.params['*'];
    const asset = path === '' ? index : assets.get(path);
    return asset ? sendAsset(request, reply, asset) : notFound(request, reply);
  });
}
