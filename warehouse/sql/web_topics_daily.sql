-- Web overview chart: per topic and day (when the article was first seen) since $since_day,
-- its matches and the distinct stories they belong to.
SELECT m.topic, CAST(a.first_seen_at AS DATE) AS day, count(*) AS matches,
       count(DISTINCT a.story_id) AS stories
FROM topic_matches AS m
JOIN articles AS a USING (article_id)
WHERE a.first_seen_at >= $since_day
GROUP BY ALL
ORDER BY m.topic, day;
