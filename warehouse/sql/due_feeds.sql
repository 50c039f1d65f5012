-- Feeds to poll now: enabled, and due (or every enabled feed when $all_feeds), with what the
-- poll needs: validators, the last body's hash, health and the feed's own interval.
SELECT feed_url, name, outlet, local, etag, last_modified, body_hash,
       coalesce(failure_weight, 0) AS failure_weight, error_count, interval_min,
       coalesce(conditional_polls, 0) AS conditional_polls
FROM feeds
WHERE enabled AND ($all_feeds OR next_due_at IS NULL OR next_due_at <= $now)
ORDER BY feed_url;
