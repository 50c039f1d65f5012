-- One alert per (topic, story), ever: the batch's first relevant match of a story that has
-- no alert for the topic yet stands for it; later copies and reports do not alert again. A
-- match the topic's relevance model rejected is stored but never alerts.
INSERT INTO alerts (topic, article_id, kind, created_at, run_id, story_id, outlets)
SELECT b.topic, b.article_id, 'first', b.matched_at, b.run_id, a.story_id, s.outlets
FROM batch AS b
JOIN articles AS a USING (article_id)
LEFT JOIN stories AS s ON s.story_id = a.story_id
WHERE b.relevant  -- the query matched and the topic's model, if any, agreed
  AND NOT EXISTS (SELECT 1 FROM alerts AS x
                  WHERE x.topic = b.topic AND x.story_id = a.story_id)
QUALIFY row_number() OVER (PARTITION BY b.topic, a.story_id
                           ORDER BY a.published_at NULLS LAST, b.article_id) = 1
ON CONFLICT DO NOTHING
RETURNING topic, article_id, kind;
