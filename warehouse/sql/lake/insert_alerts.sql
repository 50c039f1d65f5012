-- Lake variant (no ON CONFLICT, no RETURNING): one alert per (topic, story), ever; written
-- under the lake's writer turn, so no other writer adds one between the check and the insert.
CREATE OR REPLACE TEMP TABLE new_alerts AS
SELECT b.topic, b.article_id, 'first' AS kind, b.matched_at AS created_at, b.run_id,
       a.story_id, s.outlets
FROM batch AS b
JOIN articles AS a USING (article_id)
LEFT JOIN stories AS s ON s.story_id = a.story_id
WHERE b.relevant
  AND NOT EXISTS (SELECT 1 FROM alerts AS x
                  WHERE x.topic = b.topic AND x.story_id = a.story_id)
  AND NOT EXISTS (SELECT 1 FROM alerts AS x
                  WHERE x.topic = b.topic AND x.article_id = b.article_id AND x.kind = 'first')
QUALIFY row_number() OVER (PARTITION BY b.topic, a.story_id
                           ORDER BY a.published_at NULLS LAST, b.article_id) = 1;
INSERT INTO alerts (topic, article_id, kind, created_at, run_id, story_id, outlets)
SELECT topic, article_id, kind, created_at, run_id, story_id, outlets FROM new_alerts;
SELECT topic, article_id, kind FROM new_alerts;
