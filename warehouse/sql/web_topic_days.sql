-- Web topic page: the topic's matched articles per day of publication (else first seen), with
-- the stories they belong to; the row whose day is NULL holds the totals.
WITH hits AS (
    SELECT a.story_id, CAST(coalesce(a.published_at, a.first_seen_at) AS DATE) AS day
    FROM topic_matches AS m
    JOIN articles AS a USING (article_id)
    WHERE m.topic = $topic
)
SELECT day, count(*) AS articles, count(DISTINCT story_id) AS stories,
       CASE WHEN grouping(day) = 0 THEN list(DISTINCT story_id) END AS story_ids
FROM hits
GROUP BY GROUPING SETS ((day), ())
ORDER BY day NULLS FIRST;
