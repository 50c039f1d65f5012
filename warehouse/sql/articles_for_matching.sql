-- The articles a run must match against topics: its new ones.
SELECT article_id, title, text, outlet, canonical_url, language, published_at
FROM articles
WHERE article_id IN (SELECT article_id FROM batch)
ORDER BY article_id;
