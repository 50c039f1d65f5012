INSERT INTO sightings SELECT article_id, url, outlet, feed_url, seen_at FROM batch
ON CONFLICT DO NOTHING;
