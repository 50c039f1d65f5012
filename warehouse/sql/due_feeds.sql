-- Feeds to poll now: enabled, and due (or every enabled feed when $all_feeds).
SELECT feed_url, name, outlet, local, etag, last_modified
FROM feeds
WHERE enabled AND ($all_feeds OR next_due_at IS NULL OR next_due_at <= $now)
ORDER BY feed_url;
