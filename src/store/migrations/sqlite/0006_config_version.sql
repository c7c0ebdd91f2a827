-- One counter for the configuration the API caches (apps, API keys, event types, and which endpoints a message fans
-- out to), moved by triggers in the same transaction as the change, whoever makes it: a node or process that cached
-- under an older value sees it differ and reads again (see store/config-cache.ts). Endpoint updates that do not change
-- fan-out (failing_since, secrets, URLs) leave it alone: the worker writes those all the time.
CREATE TABLE config_version (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  version  INTEGER NOT NULL
);
INSERT INTO config_version (id, version) VALUES (1, 0);

CREATE TRIGGER apps_config_insert AFTER INSERT ON apps BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER apps_config_update AFTER UPDATE ON apps BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER apps_config_delete AFTER DELETE ON apps BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER api_keys_config_insert AFTER INSERT ON api_keys BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER api_keys_config_update AFTER UPDATE ON api_keys BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER api_keys_config_delete AFTER DELETE ON api_keys BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER event_types_config_insert AFTER INSERT ON event_types BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER event_types_config_update AFTER UPDATE ON event_types BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER event_types_config_delete AFTER DELETE ON event_types BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER endpoints_config_insert AFTER INSERT ON endpoints BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER endpoints_config_update AFTER UPDATE ON endpoints
  WHEN OLD.disabled IS NOT NEW.disabled OR OLD.event_types IS NOT NEW.event_types OR OLD.app_id IS NOT NEW.app_id
  BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER endpoints_config_delete AFTER DELETE ON endpoints BEGIN UPDATE config_version SET version = version + 1; END;
