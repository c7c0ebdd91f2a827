-- Channels (Svix's second filter beside event types), thin payloads and FIFO endpoints.
-- endpoints.channels / messages.channels: JSON arrays of names, NULL = none. An endpoint with channels gets only the
-- messages that share one of them; one without gets every message its event types let through.
ALTER TABLE endpoints ADD COLUMN channels TEXT;
-- 'full' sends the payload; 'thin' sends {type, id, timestamp, data: {id, url}} for the receiver to fetch the rest.
ALTER TABLE endpoints ADD COLUMN payload_mode TEXT NOT NULL DEFAULT 'full';
-- 'parallel' or 'fifo' (one delivery at a time, in message order; see store/fifo.ts).
ALTER TABLE endpoints ADD COLUMN ordering TEXT NOT NULL DEFAULT 'parallel';
ALTER TABLE messages ADD COLUMN channels TEXT;
-- Where a thin delivery's receiver fetches the resource: given on send, or rendered from the event type's template.
ALTER TABLE messages ADD COLUMN resource_url TEXT;
ALTER TABLE event_types ADD COLUMN resource_url_template TEXT;

-- A FIFO endpoint's deliveries behind its head wait here: pending with no due time, so that no claim sees them, until
-- the head finishes and the first of them in queue order (fifo_seq, drawn from the endpoint's counter under its row
-- lock, so that the order is the order of acceptance whichever node accepted) is made due (store/fifo.ts).
ALTER TABLE endpoints ADD COLUMN fifo_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN fifo_seq BIGINT;
CREATE INDEX deliveries_fifo ON deliveries(endpoint_id, fifo_seq) WHERE status = 'pending' AND next_attempt_at IS NULL;

-- Fan-out now also depends on channels and ordering (FIFO deliveries are written through another path).
DROP TRIGGER endpoints_config_update ON endpoints;
CREATE TRIGGER endpoints_config_update AFTER UPDATE ON endpoints FOR EACH ROW
  WHEN (OLD.disabled IS DISTINCT FROM NEW.disabled OR OLD.event_types IS DISTINCT FROM NEW.event_types OR OLD.app_id IS DISTINCT FROM NEW.app_id
    OR OLD.channels IS DISTINCT FROM NEW.channels OR OLD.ordering IS DISTINCT FROM NEW.ordering)
  EXECUTE FUNCTION hookyard_config_changed();
