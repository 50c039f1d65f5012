-- After a poll: validators, the last body's hash, the outcome, health and the next due time,
-- all decided by tasks/feeds.py (a failure keeps the old validators and hash).
UPDATE feeds SET
    etag = b.etag,
    last_modified = b.last_modified,
    body_hash = b.body_hash,
    last_fetched_at = b.fetched_at,
    last_status = b.status,
    last_reason = b.reason,
    last_ok_at = CASE WHEN b.status IN ('ok', 'not_modified') THEN b.fetched_at
                      ELSE feeds.last_ok_at END,
    error_count = b.error_count,
    failure_weight = b.failure_weight,
    interval_min = b.interval_min,
    conditional_polls = b.conditional_polls,
    next_due_at = b.next_due_at
FROM batch AS b
WHERE feeds.feed_url = b.feed_url;
