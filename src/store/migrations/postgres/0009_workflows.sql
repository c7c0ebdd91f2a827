-- PostgreSQL twin of migrations/sqlite/0009_workflows.sql.
-- Workflows: no-code processing of a source's requests. A workflow's definition lives in versions: an edit of a
-- version no execution has run changes it in place, an edit after that adds the next version, so every execution's
-- definition stays readable. Executions are queued and leased like processing jobs; one job row per node run.

CREATE TABLE workflows (
  id          TEXT COLLATE "C" PRIMARY KEY,
  key         TEXT COLLATE "C" NOT NULL UNIQUE,
  name        TEXT NOT NULL,
  enabled     INTEGER NOT NULL,
  source_id   TEXT COLLATE "C" NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  mode        TEXT NOT NULL,
  version     INTEGER NOT NULL,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);
CREATE INDEX workflows_source ON workflows(source_id);

CREATE TABLE workflow_versions (
  workflow_id  TEXT COLLATE "C" NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
  version      INTEGER NOT NULL,
  -- {mode, trigger, response, nodes} as JSON, encrypted as a whole: nodes may carry credentials (headers, secrets).
  definition   TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  PRIMARY KEY (workflow_id, version)
);

CREATE TABLE workflow_executions (
  id            TEXT COLLATE "C" PRIMARY KEY,
  workflow_id   TEXT COLLATE "C" NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
  version       INTEGER NOT NULL,
  request_id    TEXT COLLATE "C" NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
  -- The request and the processing run that started it: a job run again after a crash finds its executions here
  -- instead of starting them twice; a replay (a new processing run) starts new ones.
  trigger_key   TEXT COLLATE "C" NOT NULL,
  -- running | waiting | succeeded | failed
  status        TEXT NOT NULL,
  -- The node to run next (after a failure: the node that failed, for a retry); NULL once finished.
  current_node  TEXT COLLATE "C",
  response      TEXT,
  error         TEXT,
  -- Due time while running or waiting: a claimed execution's lease end, a delay's wake time. NULL when finished.
  next_run_at   BIGINT,
  lease_owner   TEXT COLLATE "C",
  claims        INTEGER NOT NULL DEFAULT 0,
  started_at    BIGINT NOT NULL,
  finished_at   BIGINT,
  updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX workflow_executions_trigger ON workflow_executions(workflow_id, trigger_key);
CREATE INDEX workflow_executions_list ON workflow_executions(workflow_id, id);
CREATE INDEX workflow_executions_request ON workflow_executions(request_id);
CREATE INDEX workflow_executions_due ON workflow_executions(next_run_at) WHERE next_run_at IS NOT NULL;

CREATE TABLE workflow_jobs (
  id            TEXT COLLATE "C" PRIMARY KEY,
  execution_id  TEXT COLLATE "C" NOT NULL REFERENCES workflow_executions(id) ON DELETE CASCADE,
  node_key      TEXT COLLATE "C" NOT NULL,
  type          TEXT NOT NULL,
  -- running | succeeded | failed | waiting
  status        TEXT NOT NULL,
  input         TEXT,
  output        TEXT,
  error         TEXT,
  started_at    BIGINT NOT NULL,
  duration_ms   INTEGER
);
CREATE INDEX workflow_jobs_execution ON workflow_jobs(execution_id, id);
