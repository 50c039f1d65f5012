-- A chunk's pending entries, whole, by URL (batch: entry_url).
SELECT e.entry_url, e.feed_url, e.guid, e.title, e.summary, e.published_at,
       coalesce(f.outlet, '') AS outlet, e.attempts, e.content, e.author
FROM entries AS e LEFT JOIN feeds AS f USING (feed_url)
WHERE e.state = 'pending' AND e.entry_url IN (SELECT entry_url FROM batch);
