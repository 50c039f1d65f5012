UPDATE digests SET
    status = b.status,
    attempts = digests.attempts + 1,
    last_error = b.error,
    delivered_at = CASE WHEN b.status = 'sent' THEN b.at ELSE digests.delivered_at END
FROM batch AS b
WHERE digests.topic = b.topic AND digests.channel = b.channel
  AND digests.period_end = b.period_end;
