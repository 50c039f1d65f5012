-- One line per feed for `newswatch status`; failing feeds first.
SELECT name, last_status, last_reason, last_fetched_at, next_due_at, error_count,
       (SELECT count(*) FROM articles AS a WHERE a.feed_url = f.feed_url) AS articles
FROM feeds AS f
WHERE enabled
ORDER BY coalesce(last_status NOT IN ('ok', 'not_modified'), false) DESC, name;
