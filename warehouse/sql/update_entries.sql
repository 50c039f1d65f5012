-- The outcome of each entry's page fetch and extraction.
UPDATE entries SET
    state = b.state,
    attempts = entries.attempts + 1,
    last_status = b.last_status,
    last_reason = b.last_reason,
    article_id = b.article_id
FROM batch AS b
WHERE entries.entry_url = b.entry_url;
