-- One counter for the configuration the API caches (apps, API keys, event types, and which endpoints a message fans
-- out to), moved by triggers in the same transaction as the change, whoever makes it. The trigger also notifies
-- channel hookyard_config, delivered at commit, so that every node drops its cache within milliseconds; a message
-- insert compares the counter with the one its cache was read under, so that none is accepted on stale
-- configuration meanwhile (see store/config-cache.ts). Endpoint updates that do not change fan-out (failing_since,
-- secrets, URLs) leave it alone: the worker writes those all the time, and the row would serialise them.
CREATE TABLE config_version (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  version  BIGINT NOT NULL
);
INSERT INTO config_version (id, version) VALUES (1, 0);

CREATE FUNCTION hookyard_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE config_version SET version = version + 1 WHERE id = 1;
  PERFORM pg_notify('hookyard_config', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER apps_config AFTER INSERT OR UPDATE OR DELETE ON apps FOR EACH ROW EXECUTE FUNCTION hookyard_config_changed();
CREATE TRIGGER api_keys_config AFTER INSERT OR UPDATE OR DELETE ON api_keys FOR EACH ROW EXECUTE FUNCTION hookyard_config_changed();
CREATE TRIGGER event_types_config AFTER INSERT OR UPDATE OR DELETE ON event_types FOR EACH ROW EXECUTE FUNCTION hookyard_config_changed();
CREATE TRIGGER endpoints_config_insert_delete AFTER INSERT OR DELETE ON endpoints FOR EACH ROW EXECUTE FUNCTION hookyard_config_changed();
CREATE TRIGGER endpoints_config_update AFTER UPDATE ON endpoints FOR EACH ROW
  WHEN (OLD.disabled IS DISTINCT FROM NEW.disabled OR OLD.event_types IS DISTINCT FROM NEW.event_types OR OLD.app_id IS DISTINCT FROM NEW.app_id)
  EXECUTE FUNCTION hookyard_config_changed();
