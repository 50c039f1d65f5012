-- Web overview: per topic with matches, its totals, the stories first seen since $since_day
-- (new stories), and its alert deliveries sent and failed.
WITH m AS (
    SELECT m.topic, a.story_id, s.first_seen_at AS story_first_seen
    FROM topic_matches AS m
    JOIN articles AS a USING (article_id)
    JOIN stories AS s USING (story_id)
), d AS (
    SELECT topic, count(*) FILTER (WHERE status = 'sent') AS sent,
           count(*) FILTER (WHERE status = 'failed') AS failed
    FROM deliveries GROUP BY topic
), al AS (
    SELECT topic, count(*) AS alerts FROM alerts GROUP BY topic
)
SELECT m.topic, count(*) AS matches, count(DISTINCT m.story_id) AS stories,
       count(DISTINCT m.story_id) FILTER (WHERE m.story_first_seen >= $since_day) AS new_stories,
       any_value(coalesce(al.alerts, 0)) AS alerts,
       any_value(coalesce(d.sent, 0)) AS sent, any_value(coalesce(d.failed, 0)) AS failed
FROM m
LEFT JOIN d USING (topic)
LEFT JOIN al USING (topic)
GROUP BY m.topic;
