UPDATE deliveries SET
    status = b.status,
    attempts = deliveries.attempts + 1,
    last_error = b.error,
    delivered_at = CASE WHEN b.status = 'sent' THEN b.at ELSE deliveries.delivered_at END
FROM batch AS b
WHERE deliveries.topic = b.topic AND deliveries.article_id = b.article_id
  AND deliveries.kind = b.kind AND deliveries.channel = b.channel;
