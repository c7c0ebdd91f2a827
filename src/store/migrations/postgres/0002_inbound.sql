-- PostgreSQL twin of migrations/sqlite/0002_inbound.sql.
-- Inbound: sources, the request log, the processing queue (jobs) and the handlers' document store.

CREATE TABLE sources (
  id            TEXT COLLATE "C" PRIMARY KEY,
  name          TEXT COLLATE "C" NOT NULL UNIQUE,
  description   TEXT NOT NULL DEFAULT '',
  methods       TEXT NOT NULL,
  -- The verification config as JSON, encrypted as a whole: it holds the signing secrets.
  verification  TEXT,
  ip_allowlist  TEXT,
  dedup         TEXT,
  response      TEXT,
  handler       TEXT,
  forward       TEXT,
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);

CREATE TABLE requests (
  id                 TEXT COLLATE "C" PRIMARY KEY,
  source_id          TEXT COLLATE "C" NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  method             TEXT NOT NULL,
  path               TEXT NOT NULL,
  query              TEXT NOT NULL,
  headers            TEXT NOT NULL,
  body               BYTEA NOT NULL,
  received_at        BIGINT NOT NULL,
  -- accepted | rejected | duplicate
  status             TEXT NOT NULL,
  response_status    INTEGER NOT NULL,
  verified           INTEGER,
  reason             TEXT,
  -- Set on accepted requests only, so that the unique index below decides which copy of a delivery is first.
  dedup_key          TEXT,
  duplicate_of       TEXT,
  -- none | pending | running | succeeded | failed
  processing_status  TEXT NOT NULL,
  processing_output  TEXT,
  processing_error   TEXT,
  processing_ms      BIGINT,
  processed_at       BIGINT
);
CREATE INDEX requests_source ON requests(source_id, id);
CREATE UNIQUE INDEX requests_dedup ON requests(source_id, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX requests_received ON requests(received_at);

-- The inbound processing queue, with the claim/lease rules of deliveries: a running job whose lease ran out is due.
CREATE TABLE jobs (
  request_id       TEXT COLLATE "C" PRIMARY KEY REFERENCES requests(id) ON DELETE CASCADE,
  source_id        TEXT COLLATE "C" NOT NULL,
  status           TEXT NOT NULL,
  next_attempt_at  BIGINT NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  created_at       BIGINT NOT NULL
);
CREATE INDEX jobs_queue ON jobs(next_attempt_at);

CREATE TABLE documents (
  collection  TEXT NOT NULL,
  id          TEXT COLLATE "C" NOT NULL,
  data        TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  PRIMARY KEY (collection, id)
);
