-- Web topic page: the matched articles of the stories on the page, best evidence first, with
-- the relevance model's probability and verdict (NULL and true without a model).
SELECT a.story_id, m.article_id, a.outlet, a.title, a.url, a.published_at, m.score, m.snippet,
       m.probability, m.relevant
FROM topic_matches AS m
JOIN articles AS a USING (article_id)
WHERE m.topic = $topic AND a.story_id IN (SELECT unnest($story_ids))
ORDER BY a.story_id, m.score DESC, a.published_at NULLS LAST, m.article_id;
