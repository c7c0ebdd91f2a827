-- PostgreSQL twin of migrations/sqlite/0003_endpoint_rate.sql.
CREATE TABLE endpoint_rate (
  endpoint_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES endpoints(id) ON DELETE CASCADE,
  tokens       DOUBLE PRECISION NOT NULL,
  refilled_at  BIGINT NOT NULL
);
