import { hashToken, newApiToken } from '../crypto/tokens.js';
import { newId } from '../ids.js';
import type { ApiKey, App, Store } from '../store/store.js';

export interface PortalAccessInput {
  /** Lifetime of the session's token; default one hour, at most seven days (Svix's limit). */
  expirySeconds?: number | undefined;
  readOnly?: boolean | undefined;
}

export interface PortalAccess {
  /** Opens the portal; the token travels in the fragment, which browsers never send to a server or put in logs. */
  url: string;
  token: string;
  key: ApiKey;
}

export const DEFAULT_PORTAL_EXPIRY_SECONDS = 3_600;
export const MAX_PORTAL_EXPIRY_SECONDS = 7 * 86_400;

/** Consumer portal sessions: an app-scoped, expiring API key of kind `portal` per session (revoked like any key). */
export class PortalService {
  constructor(private readonly store: Store) {}

  async createAccess(app: App, input: PortalAccessInput, origin: string, now = Date.now()): Promise<PortalAccess> {
    const token = newApiToken('portal');
    const seconds = input.expirySeconds ?? DEFAULT_PORTAL_EXPIRY_SECONDS;
    const key = await this.store.createApiKey(
      { id: newId('key', now), appId: app.id, name: 'portal session', kind: 'portal', expiresAt: now + seconds * 1000, readOnly: input.readOnly ?? false, createdAt: now },
      hashToken(token),
    );
    return { url: `${origin}/portal#token=${encodeURIComponent(token)}`, token, key };
  }
}
