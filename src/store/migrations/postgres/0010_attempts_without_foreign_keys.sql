-- The attempt log keeps no foreign keys. Each one made every attempt row take a KEY SHARE lock on its message's and its
-- endpoint's row, and every concurrent outcome batch locking the same endpoint row made PostgreSQL build multixacts
-- for it: end to end that was the largest part of the server's CPU per message. What the keys promised is kept in
-- code instead: an attempt is written only while its delivery exists, locking that delivery's row (store/outcomes.ts),
-- and deleting an endpoint or an app deletes the deliveries first (waiting for such a lock), then the attempts.
ALTER TABLE attempts DROP CONSTRAINT IF EXISTS attempts_message_id_fkey;
ALTER TABLE attempts DROP CONSTRAINT IF EXISTS attempts_endpoint_id_fkey;
