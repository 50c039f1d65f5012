-- Web topic page: the topic's matched articles per day (topic_hits), with the stories they
-- belong to; the row whose day is NULL holds the totals.
SELECT day, count(*) AS articles, count(DISTINCT story_id) AS stories,
       CASE WHEN grouping(day) = 0 THEN list(DISTINCT story_id) END AS story_ids
FROM topic_hits
GROUP BY GROUPING SETS ((day), ())
ORDER BY day NULLS FIRST;
