-- Every article, for trying and backfilling topics.
SELECT article_id, title, text, outlet, canonical_url, language, published_at
FROM articles
ORDER BY published_at NULLS LAST, article_id;
