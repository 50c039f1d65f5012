-- Web search: the texts of one chunk of candidate articles, for the query language.
SELECT article_id, title, text, outlet, canonical_url, language, published_at, first_seen_at
FROM articles
WHERE article_id IN (SELECT unnest($ids))
ORDER BY article_id;
