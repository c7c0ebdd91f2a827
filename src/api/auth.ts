import type { FastifyRequest } from 'fastify';
import { constantTimeEqual, hashToken } from '../crypto/tokens.js';
import { HookyardError } from '../errors.js';
import type { App, Store } from '../store/store.js';

export interface Principal {
  keyId: string;
  /** null for the admin token. */
  appId: string | null;
  /** `portal`: a consumer portal session, held to the portal's routes (see portal-scope.ts). */
  kind: 'admin' | 'app' | 'portal';
  /** A portal session that may only read. */
  readOnly: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * Resolves `Authorization: Bearer <token>` to a key. Tokens are stored as SHA-256 hashes and looked up by hash, so
 * no stored secret is ever compared; the admin token from the environment is compared in constant time.
 */
export class Authenticator {
  private readonly envAdminHash: string | undefined;

  constructor(
    private readonly store: Store,
    envAdminToken: string | undefined,
  ) {
    this.envAdminHash = envAdminToken === undefined ? undefined : hashToken(envAdminToken);
  }

  async authenticate(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new HookyardError('unauthorized', 'missing bearer token: send Authorization: Bearer <token>');
    return this.byToken(match[1]!);
  }

  /** Polar-style registration authenticates with Basic `<key id>:<token>` of an app key. */
  async authenticateBasic(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) throw new HookyardError('unauthorized', 'missing credentials: send Authorization: Basic base64(<key id>:<token>)');
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const principal = await this.byToken(decoded.slice(colon + 1)).catch(() => null);
    if (colon < 0 || principal === null || principal.appId === null || !constantTimeEqual(principal.keyId, decoded.slice(0, colon))) {
      throw new HookyardError('unauthorized', 'invalid credentials');
    }
    return principal;
  }

  private async byToken(token: string): Promise<Principal> {
    const hash = hashToken(token);
    if (this.envAdminHash !== undefined && constantTimeEqual(hash, this.envAdminHash)) return { keyId: 'key_env_admin', appId: null, kind: 'admin', readOnly: false };
    const key = await this.store.findApiKeyByHash(hash);
    if (!key) throw new HookyardError('unauthorized', 'invalid token');
    // Checked on every request, cached key or not: a cached portal token must not outlive its expiry.
    if (key.expiresAt !== null && key.expiresAt <= Date.now()) throw new HookyardError('unauthorized', 'the token has expired');
    const kind = key.kind === 'portal' ? 'portal' : key.appId === null ? 'admin' : 'app';
    return { keyId: key.id, appId: key.appId, kind, readOnly: key.readOnly };
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new HookyardError('unauthorized', 'not authenticated');
  return request.principal;
}

export function requireAdmin(request: FastifyRequest): void {
  if (principalOf(request).appId !== null) throw new HookyardError('forbidden', 'this operation needs the admin token');
}

/** The app named by id or uid, if this token may see it; otherwise 404 so that other tenants' apps do not leak. */
export async function visibleApp(store: Store, request: FastifyRequest, idOrUid: string): Promise<App> {
  const principal = principalOf(request);
  const app = await store.getApp(idOrUid);
  if (!app || (principal.appId !== null && principal.appId !== app.id)) throw new HookyardError('not_found', 'app not found');
  return app;
}
