-- Deliveries not yet sent: new ones and earlier failures under the attempt cap, with the
-- story's outlets so far (its articles' and sightings') and when it was first seen.
WITH story_outlets AS (
    SELECT a.story_id, list(DISTINCT o.outlet ORDER BY o.outlet) AS outlets
    FROM articles AS a
    JOIN (SELECT article_id, outlet FROM articles
          UNION SELECT article_id, outlet FROM sightings) AS o
      ON o.article_id IN (SELECT article_id FROM articles AS m WHERE m.story_id = a.story_id)
    WHERE a.story_id IN (SELECT story_id FROM alerts)
    GROUP BY a.story_id
)
SELECT d.topic, d.article_id, a.title, a.outlet, a.url, a.published_at,
       m.score, m.terms, m.snippet, d.channel,
       coalesce(so.outlets, [a.outlet]) AS outlets, s.first_seen_at AS story_first_seen_at
FROM deliveries AS d
JOIN articles AS a USING (article_id)
JOIN topic_matches AS m USING (topic, article_id)
LEFT JOIN stories AS s ON s.story_id = a.story_id
LEFT JOIN story_outlets AS so ON so.story_id = a.story_id
WHERE d.status = 'pending' OR (d.status = 'failed' AND d.attempts < $max_attempts)
ORDER BY a.published_at NULLS LAST, d.topic, d.article_id, d.channel;
