-- Web topic page: the topic's matched articles with their story and day of publication (else
-- first seen), joined with articles once, into a temporary table (this connection's only) that
-- the page's other queries read.
CREATE TEMP TABLE topic_hits AS
SELECT m.article_id, m.score, m.snippet, m.probability, m.relevant, a.story_id,
       CAST(coalesce(a.published_at, a.first_seen_at) AS DATE) AS day
FROM topic_matches AS m
JOIN articles AS a USING (article_id)
WHERE m.topic = $topic;
