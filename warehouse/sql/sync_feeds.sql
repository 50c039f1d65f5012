-- Upsert the configured feeds (batch: feed_url, name, outlet, local, enabled, added_at).
-- A feed removed from the config is disabled, not deleted: its history stays queryable.
INSERT INTO feeds (feed_url, name, outlet, local, enabled, added_at)
SELECT feed_url, name, outlet, local, enabled, added_at FROM batch
ON CONFLICT (feed_url) DO UPDATE SET
    name = excluded.name, outlet = excluded.outlet,
    local = excluded.local, enabled = excluded.enabled;
UPDATE feeds SET enabled = false WHERE feed_url NOT IN (SELECT feed_url FROM batch);
