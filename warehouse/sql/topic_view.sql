-- One topic's view (schema topics): one row per story the topic matched, with the story's
-- first sighting and outlets so far, its best match (relevant first, then the model's
-- probability, then the query's score), and whether and when the story alerted.
-- {view} and {topic} are filled in by db.sync_topic_views from a validated topic name.
CREATE OR REPLACE VIEW topics.{view} AS
SELECT a.story_id,
       s.first_seen_at,
       s.outlets,
       a.article_id AS best_article_id,
       a.title,
       a.url,
       a.outlet,
       m.score,
       m.probability,
       m.relevant,
       m.matched_at,
       al.created_at IS NOT NULL AS alerted,
       al.created_at AS alerted_at
FROM topic_matches AS m
JOIN articles AS a USING (article_id)
LEFT JOIN stories AS s ON s.story_id = a.story_id
LEFT JOIN (SELECT story_id, min(created_at) AS created_at FROM alerts
           WHERE topic = '{topic}' GROUP BY story_id) AS al ON al.story_id = a.story_id
WHERE m.topic = '{topic}'
QUALIFY row_number() OVER (PARTITION BY coalesce(a.story_id, a.article_id)
                           ORDER BY m.relevant DESC, m.probability DESC NULLS LAST,
                                    m.score DESC, a.article_id) = 1;
