-- Timestamps are integer milliseconds since the epoch; JSON is stored as text; flags are 0/1 integers.
-- The same shapes are used on PostgreSQL (BIGINT, TEXT, SMALLINT) so that one SQL store serves both.

CREATE TABLE apps (
  id          TEXT PRIMARY KEY,
  uid         TEXT UNIQUE,
  name        TEXT NOT NULL,
  metadata    TEXT NOT NULL DEFAULT '{}',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id          TEXT PRIMARY KEY,
  app_id      TEXT REFERENCES apps(id) ON DELETE CASCADE,
  name        TEXT,
  token_hash  TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL
);
CREATE INDEX api_keys_app ON api_keys(app_id);

CREATE TABLE event_types (
  name        TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  schema      TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE endpoints (
  id              TEXT PRIMARY KEY,
  app_id          TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  url             TEXT NOT NULL,
  description     TEXT NOT NULL DEFAULT '',
  event_types     TEXT,
  headers         TEXT NOT NULL DEFAULT '{}',
  rate_limit      INTEGER,
  timeout_ms      INTEGER,
  disabled        INTEGER NOT NULL DEFAULT 0,
  disabled_reason TEXT,
  failing_since   INTEGER,
  flavor          TEXT NOT NULL DEFAULT 'standard',
  metadata        TEXT NOT NULL DEFAULT '{}',
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE INDEX endpoints_app ON endpoints(app_id, id);

CREATE TABLE endpoint_secrets (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint_id  TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  secret_enc   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER
);
CREATE INDEX endpoint_secrets_endpoint ON endpoint_secrets(endpoint_id);

CREATE TABLE messages (
  id          TEXT PRIMARY KEY,
  app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  event_type  TEXT NOT NULL,
  event_id    TEXT,
  payload     TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX messages_app_event_id ON messages(app_id, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX messages_app ON messages(app_id, id);

-- The outbound queue: one row per (message, endpoint). status: pending | sending | succeeded | failed.
-- A claim works like a visibility timeout: it sets status 'sending' and moves next_attempt_at to the end of the lease,
-- so a delivery whose worker died becomes due again by itself, through the same index, with no sweeper.
CREATE TABLE deliveries (
  message_id      TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  endpoint_id     TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  app_id          TEXT NOT NULL,
  status          TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  schedule_pos    INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  next_trigger    TEXT NOT NULL DEFAULT 'scheduled',
  single_shot     INTEGER NOT NULL DEFAULT 0,
  lease_owner     TEXT,
  exhausted_at    INTEGER,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (message_id, endpoint_id)
) WITHOUT ROWID;
CREATE INDEX deliveries_queue ON deliveries(next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_endpoint ON deliveries(endpoint_id);

-- Append-only log of HTTP tries.
CREATE TABLE attempts (
  id                   TEXT PRIMARY KEY,
  message_id           TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  endpoint_id          TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  app_id               TEXT NOT NULL,
  url                  TEXT NOT NULL,
  status               TEXT NOT NULL,
  response_status_code INTEGER,
  response             TEXT NOT NULL DEFAULT '',
  error                TEXT,
  duration_ms          INTEGER NOT NULL,
  attempt              INTEGER NOT NULL,
  trigger              TEXT NOT NULL,
  created_at           INTEGER NOT NULL,
  next_attempt_at      INTEGER
);
CREATE INDEX attempts_message ON attempts(message_id, id);
CREATE INDEX attempts_endpoint ON attempts(endpoint_id, id);

-- Responses of create calls made with an Idempotency-Key; status_code 0 marks one still being processed.
CREATE TABLE idempotency_keys (
  scope       TEXT NOT NULL,
  key         TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  body        TEXT,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys(expires_at);
