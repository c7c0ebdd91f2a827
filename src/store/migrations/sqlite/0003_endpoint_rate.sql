-- Each rate-limited endpoint's token bucket, shared by every worker (so N workers together keep to the endpoint's
-- rateLimit). Created on an endpoint's first rate-limited attempt.
CREATE TABLE endpoint_rate (
  endpoint_id  TEXT PRIMARY KEY REFERENCES endpoints(id) ON DELETE CASCADE,
  tokens       REAL NOT NULL,
  refilled_at  INTEGER NOT NULL
);
