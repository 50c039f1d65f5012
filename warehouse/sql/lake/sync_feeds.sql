-- Lake variant: upsert the configured feeds; a feed removed from the config is disabled.
MERGE INTO feeds USING (SELECT DISTINCT ON (feed_url) * FROM batch) AS b
ON feeds.feed_url = b.feed_url
WHEN MATCHED THEN UPDATE SET name = b.name, outlet = b.outlet, local = b.local,
                             enabled = b.enabled
WHEN NOT MATCHED THEN INSERT (feed_url, name, outlet, local, enabled, added_at)
    VALUES (b.feed_url, b.name, b.outlet, b.local, b.enabled, b.added_at);
UPDATE feeds SET enabled = false WHERE feed_url NOT IN (SELECT feed_url FROM batch);
