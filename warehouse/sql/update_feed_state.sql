-- After a poll: remember validators, the outcome and when the feed is next due.
-- A failure keeps the old validators and counts up; a success resets the count.
UPDATE feeds SET
    etag = CASE WHEN b.status = 'ok' THEN b.etag ELSE feeds.etag END,
    last_modified = CASE WHEN b.status = 'ok' THEN b.last_modified ELSE feeds.last_modified END,
    last_fetched_at = b.fetched_at,
    last_status = b.status,
    last_reason = b.reason,
    last_ok_at = CASE WHEN b.status IN ('ok', 'not_modified') THEN b.fetched_at ELSE feeds.last_ok_at END,
    error_count = CASE WHEN b.status IN ('ok', 'not_modified') THEN 0 ELSE feeds.error_count + 1 END,
    next_due_at = b.next_due_at
FROM batch AS b
WHERE feeds.feed_url = b.feed_url;
