-- Web topic page chart: the topic's matched articles and their stories per $bucket ('day',
-- 'week' or 'month') of publication (else first seen), from $since on.
SELECT CAST(date_trunc($bucket, CAST(coalesce(a.published_at, a.first_seen_at) AS DATE))
            AS DATE) AS bucket,
       count(*) AS articles, count(DISTINCT a.story_id) AS stories
FROM topic_matches AS m
JOIN articles AS a USING (article_id)
WHERE m.topic = $topic AND coalesce(a.published_at, a.first_seen_at) >= $since
GROUP BY 1
ORDER BY 1;
