-- The article a label names: by its id, or by the id of the article an alert showed.
SELECT article_id, title, canonical_url, outlet
FROM articles
WHERE article_id = $article_id
LIMIT 1;
