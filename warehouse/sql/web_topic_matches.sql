-- Web topic page: the matched articles (topic_hits) of the stories on the page, best evidence
-- first, with the relevance model's probability and verdict (NULL and true without a model).
SELECT h.story_id, article_id, a.outlet, a.title, a.url, a.published_at, h.score, h.snippet,
       h.probability, h.relevant
FROM (SELECT * FROM topic_hits WHERE story_id IN (SELECT unnest($story_ids))) AS h
JOIN articles AS a USING (article_id)
ORDER BY h.story_id, h.score DESC, a.published_at NULLS LAST, article_id;
