-- Lake variant of insert_follow_ups.sql (no RETURNING).
CREATE OR REPLACE TEMP TABLE new_follow_ups AS
SELECT a.topic, a.article_id, 'follow_up' AS kind, $now AS created_at, $run_id AS run_id,
       a.story_id, s.outlets
FROM alerts AS a
JOIN stories AS s USING (story_id)
WHERE a.kind = 'first' AND a.outlets < $outlets AND s.outlets >= $outlets
  AND NOT EXISTS (SELECT 1 FROM alerts AS x
                  WHERE x.topic = a.topic AND x.story_id = a.story_id AND x.kind = 'follow_up')
QUALIFY row_number() OVER (PARTITION BY a.topic, a.story_id ORDER BY a.article_id) = 1;
INSERT INTO alerts (topic, article_id, kind, created_at, run_id, story_id, outlets)
SELECT topic, article_id, kind, created_at, run_id, story_id, outlets FROM new_follow_ups;
SELECT topic, article_id, kind FROM new_follow_ups;
