-- Alerts per topic that went (or are going) out to a person since $since: the rate cap's
-- count. The log channel is a record, not a notification, so it does not count.
SELECT d.topic, count(DISTINCT (d.article_id, d.kind)) AS n
FROM deliveries AS d
JOIN alerts AS a USING (topic, article_id, kind)
WHERE a.created_at >= $since AND d.channel <> 'log'
  AND d.status IN ('pending', 'sent', 'failed')
GROUP BY d.topic;
