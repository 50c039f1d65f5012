-- Web topic page: the matched articles of the stories on the page, best evidence first (m.*
-- brings the relevance model's probability where the schema has it).
SELECT a.story_id, a.outlet, a.title, a.url, a.published_at, m.*
FROM topic_matches AS m
JOIN articles AS a USING (article_id)
WHERE m.topic = $topic AND a.story_id IN (SELECT unnest($story_ids))
ORDER BY a.story_id, m.score DESC, a.published_at NULLS LAST, m.article_id;
