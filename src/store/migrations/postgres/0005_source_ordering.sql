-- PostgreSQL twin of migrations/sqlite/0005_source_ordering.sql.
-- The out-of-order guard: a source's `ordering` option, the newest timestamp accepted per entity, and the flag on a
-- request that arrived older than that (stored and answered, but not processed).
ALTER TABLE sources ADD COLUMN ordering TEXT;
ALTER TABLE requests ADD COLUMN stale INTEGER NOT NULL DEFAULT 0;

-- One row per (source, entity); the upsert in the request's own transaction moves newest_at only forward, and its
-- row lock orders concurrent arrivals for one entity across nodes.
CREATE TABLE source_ordering (
  source_id   TEXT COLLATE "C" NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  entity      TEXT COLLATE "C" NOT NULL,
  newest_at   BIGINT NOT NULL,
  request_id  TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (source_id, entity)
);
