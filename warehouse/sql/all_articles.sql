-- Every original article (exact duplicates left out), for trying and backfilling topics.
SELECT article_id, title, text, outlet, canonical_url, language, published_at
FROM articles
WHERE duplicate_of IS NULL
ORDER BY published_at NULLS LAST, article_id;
