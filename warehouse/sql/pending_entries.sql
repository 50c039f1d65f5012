-- Entries still waiting for their page: new ones and earlier temporary failures.
SELECT e.entry_url, e.feed_url, e.guid, e.title, e.summary, e.published_at,
       coalesce(f.outlet, '') AS outlet, e.attempts, e.content, e.author
FROM entries AS e LEFT JOIN feeds AS f USING (feed_url)
WHERE e.state = 'pending'
ORDER BY e.first_seen_at, e.entry_url;
