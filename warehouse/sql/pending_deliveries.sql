-- Deliveries not yet sent: new ones and earlier failures under the attempt cap.
SELECT d.topic, d.article_id, a.title, a.outlet, a.url, a.published_at,
       m.score, m.terms, m.snippet, d.channel
FROM deliveries AS d
JOIN articles AS a USING (article_id)
JOIN topic_matches AS m USING (topic, article_id)
WHERE d.status = 'pending' OR (d.status = 'failed' AND d.attempts < $max_attempts)
ORDER BY a.published_at NULLS LAST, d.topic, d.article_id, d.channel;
