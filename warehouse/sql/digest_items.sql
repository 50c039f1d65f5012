-- What each topic's next digest holds: its first alerts created since its last digest up to
-- $now, for topics in digest mode ($digest_topics) and for alerts that a rate cap held back.
WITH last AS (SELECT topic, max(period_end) AS since FROM digests GROUP BY topic)
SELECT al.topic, al.story_id, coalesce(l.since, min(al.created_at) OVER (PARTITION BY al.topic))
           AS period_start,
       a.title, a.url, a.outlet, coalesce(so.outlets, [a.outlet]) AS outlets,
       coalesce(s.first_seen_at, al.created_at) AS first_seen_at, m.snippet, m.score
FROM alerts AS al
JOIN articles AS a USING (article_id)
JOIN topic_matches AS m USING (topic, article_id)
LEFT JOIN stories AS s ON s.story_id = al.story_id
LEFT JOIN story_outlets AS so ON so.story_id = al.story_id
LEFT JOIN last AS l USING (topic)
WHERE al.kind = 'first'
  AND al.created_at <= $now
  AND (l.since IS NULL OR al.created_at > l.since)
  AND (list_contains($digest_topics, al.topic)
       OR EXISTS (SELECT 1 FROM deliveries AS d
                  WHERE d.topic = al.topic AND d.article_id = al.article_id
                    AND d.kind = 'first' AND d.status = 'capped'))
ORDER BY al.topic, len(coalesce(so.outlets, [a.outlet])) DESC, first_seen_at, al.article_id;
