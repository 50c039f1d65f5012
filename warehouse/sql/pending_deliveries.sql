-- Deliveries not yet sent: new ones and earlier failures under the attempt cap, with the
-- story's outlets so far and when it was first seen.
SELECT d.topic, d.article_id, d.kind, a.title, a.outlet, a.url, a.published_at,
       m.score, m.terms, m.snippet, m.probability, d.channel,
       coalesce(so.outlets, [a.outlet]) AS outlets, s.first_seen_at AS story_first_seen_at
FROM deliveries AS d
JOIN articles AS a USING (article_id)
JOIN topic_matches AS m USING (topic, article_id)
LEFT JOIN stories AS s ON s.story_id = a.story_id
LEFT JOIN story_outlets AS so ON so.story_id = a.story_id
WHERE d.status = 'pending' OR (d.status = 'failed' AND d.attempts < $max_attempts)
ORDER BY a.published_at NULLS LAST, d.topic, d.article_id, d.kind, d.channel;
