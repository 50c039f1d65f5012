-- The articles a run must match against topics: its new originals (not exact duplicates).
SELECT article_id, title, text, outlet, canonical_url, language, published_at
FROM articles
WHERE article_id IN (SELECT article_id FROM batch) AND duplicate_of IS NULL
ORDER BY article_id;
