-- Web topic page: the publication days of the topic's first and last match.
SELECT CAST(min(coalesce(a.published_at, a.first_seen_at)) AS DATE) AS first_day,
       CAST(max(coalesce(a.published_at, a.first_seen_at)) AS DATE) AS last_day,
       count(*) AS matches, count(DISTINCT a.story_id) AS stories
FROM topic_matches AS m
JOIN articles AS a USING (article_id)
WHERE m.topic = $topic;
