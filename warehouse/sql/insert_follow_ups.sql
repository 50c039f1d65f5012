-- Follow-ups: once per (topic, story), when a story first alerted with fewer than
-- $outlets outlets has reached that many. The follow-up points at the first alert's article.
INSERT INTO alerts (topic, article_id, kind, created_at, run_id, story_id, outlets)
SELECT a.topic, a.article_id, 'follow_up', $now, $run_id, a.story_id, s.outlets
FROM alerts AS a
JOIN stories AS s USING (story_id)
WHERE a.kind = 'first' AND a.outlets < $outlets AND s.outlets >= $outlets
  AND NOT EXISTS (SELECT 1 FROM alerts AS x
                  WHERE x.topic = a.topic AND x.story_id = a.story_id AND x.kind = 'follow_up')
ON CONFLICT DO NOTHING
RETURNING topic, article_id, kind;
