-- Web search: the listed articles, for one page of results.
SELECT a.article_id, a.story_id, a.outlet, a.title, a.url, a.published_at, a.first_seen_at,
       s.outlets AS story_outlets
FROM articles AS a
LEFT JOIN stories AS s USING (story_id)
WHERE a.article_id IN (SELECT unnest($ids));
