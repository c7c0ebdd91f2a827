-- PostgreSQL twin of migrations/sqlite/0001_init.sql: the same tables and columns, so that one SQL store serves both.
-- Times are BIGINT milliseconds, JSON is text, flags are 0/1 integers; ids compare bytewise (COLLATE "C").

CREATE TABLE apps (
  id          TEXT COLLATE "C" PRIMARY KEY,
  uid         TEXT UNIQUE,
  name        TEXT COLLATE "C" NOT NULL,
  metadata    TEXT NOT NULL DEFAULT '{}',
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
  id          TEXT COLLATE "C" PRIMARY KEY,
  app_id      TEXT COLLATE "C" REFERENCES apps(id) ON DELETE CASCADE,
  name        TEXT COLLATE "C",
  token_hash  TEXT NOT NULL UNIQUE,
  created_at  BIGINT NOT NULL
);
CREATE INDEX api_keys_app ON api_keys(app_id);

CREATE TABLE event_types (
  name        TEXT COLLATE "C" PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  schema      TEXT,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);

CREATE TABLE endpoints (
  id              TEXT COLLATE "C" PRIMARY KEY,
  app_id          TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  url             TEXT NOT NULL,
  description     TEXT NOT NULL DEFAULT '',
  event_types     TEXT,
  headers         TEXT NOT NULL DEFAULT '{}',
  rate_limit      INTEGER,
  timeout_ms      BIGINT,
  disabled        INTEGER NOT NULL DEFAULT 0,
  disabled_reason TEXT,
  failing_since   BIGINT,
  flavor          TEXT NOT NULL DEFAULT 'standard',
  metadata        TEXT NOT NULL DEFAULT '{}',
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL
);
CREATE INDEX endpoints_app ON endpoints(app_id, id);

CREATE TABLE endpoint_secrets (
  id           BIGSERIAL PRIMARY KEY,
  endpoint_id  TEXT COLLATE "C" NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  secret_enc   TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  expires_at   BIGINT
);
CREATE INDEX endpoint_secrets_endpoint ON endpoint_secrets(endpoint_id);

CREATE TABLE messages (
  id          TEXT COLLATE "C" PRIMARY KEY,
  app_id      TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  event_type  TEXT NOT NULL,
  event_id    TEXT COLLATE "C",
  payload     TEXT NOT NULL,
  created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX messages_app_event_id ON messages(app_id, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX messages_app ON messages(app_id, id);

-- The outbound queue: one row per (message, endpoint). status: pending | sending | succeeded | failed.
-- A claim works like a visibility timeout: it sets status 'sending' and moves next_attempt_at to the end of the lease,
-- so a delivery whose worker died becomes due again by itself, through the same index, with no sweeper.
CREATE TABLE deliveries (
  message_id      TEXT COLLATE "C" NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  endpoint_id     TEXT COLLATE "C" NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  app_id          TEXT COLLATE "C" NOT NULL,
  status          TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  schedule_pos    INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,
  next_trigger    TEXT NOT NULL DEFAULT 'scheduled',
  single_shot     INTEGER NOT NULL DEFAULT 0,
  lease_owner     TEXT,
  exhausted_at    BIGINT,
  last_error      TEXT,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  PRIMARY KEY (message_id, endpoint_id)
);
CREATE INDEX deliveries_queue ON deliveries(next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_endpoint ON deliveries(endpoint_id);

-- Append-only log of HTTP tries.
CREATE TABLE attempts (
  id                   TEXT COLLATE "C" PRIMARY KEY,
  message_id           TEXT COLLATE "C" NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  endpoint_id          TEXT COLLATE "C" NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  app_id               TEXT COLLATE "C" NOT NULL,
  url                  TEXT NOT NULL,
  status               TEXT NOT NULL,
  response_status_code INTEGER,
  response             TEXT NOT NULL DEFAULT '',
  error                TEXT,
  duration_ms          BIGINT NOT NULL,
  attempt              INTEGER NOT NULL,
  trigger              TEXT NOT NULL,
  created_at           BIGINT NOT NULL,
  next_attempt_at      BIGINT
);
CREATE INDEX attempts_message ON attempts(message_id, id);
CREATE INDEX attempts_endpoint ON attempts(endpoint_id, id);

-- Responses of create calls made with an Idempotency-Key; status_code 0 marks one still being processed.
CREATE TABLE idempotency_keys (
  scope       TEXT NOT NULL,
  key         TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  body        TEXT,
  expires_at  BIGINT NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys(expires_at);
