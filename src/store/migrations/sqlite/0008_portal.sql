-- The consumer portal. Its tokens are API keys of kind 'portal': app-scoped, short-lived (expires_at), revocable like
-- any key, and limited to the routes the portal page uses (api/portal-scope.ts); read_only ones to reads.
ALTER TABLE api_keys ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE api_keys ADD COLUMN read_only SMALLINT NOT NULL DEFAULT 0;
CREATE INDEX api_keys_expiry ON api_keys(expires_at) WHERE expires_at IS NOT NULL;
-- The portal's theme per app: {"color": "#RRGGBB" | null, "logoUrl": "https://…" | null}, NULL = Hookyard's.
ALTER TABLE apps ADD COLUMN portal TEXT;
