-- PostgreSQL's 0010 drops the attempt log's foreign keys (their row locks on a hot endpoint row cost more than the
-- rest of a message). SQLite has one writer and no row locks, so its keys cost little and stay: nothing changes here.
SELECT 1;
