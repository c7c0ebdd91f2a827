-- Each endpoint's own queue: its pending and sending deliveries by due time. A claim that must skip endpoints (at
-- their cap, or waiting for their rate limit) no longer walks through all of their due rows: when a skipped
-- endpoint's backlog fills the head of the queue, the other endpoints' due rows are looked up here (see
-- the dialects' claimSkipping).
CREATE INDEX deliveries_endpoint_due ON deliveries(endpoint_id, next_attempt_at) WHERE status IN ('pending', 'sending');
