-- The out-of-order guard: a source's `ordering` option, the newest timestamp accepted per entity, and the flag on a
-- request that arrived older than that (stored and answered, but not processed).
ALTER TABLE sources ADD COLUMN ordering TEXT;
ALTER TABLE requests ADD COLUMN stale INTEGER NOT NULL DEFAULT 0;

-- One row per (source, entity); the upsert in the request's own transaction moves newest_at only forward.
CREATE TABLE source_ordering (
  source_id   TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  entity      TEXT NOT NULL,
  newest_at   INTEGER NOT NULL,
  request_id  TEXT NOT NULL,
  PRIMARY KEY (source_id, entity)
) WITHOUT ROWID;
