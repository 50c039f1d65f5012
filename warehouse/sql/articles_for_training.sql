-- The texts of a topic's labelled examples (read when its model is fitted, never copied).
SELECT article_id, title, text, outlet, canonical_url, language, story_id
FROM articles
WHERE article_id IN (SELECT article_id FROM batch)
ORDER BY article_id;
