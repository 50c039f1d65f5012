-- The story each batch article belongs to.
SELECT a.article_id, a.story_id
FROM batch AS b
JOIN articles AS a ON a.article_id = b.article_id;
