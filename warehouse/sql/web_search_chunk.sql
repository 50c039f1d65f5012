-- Web search: the next chunk of articles after $after (by id), for the query language.
SELECT article_id, title, text, outlet, canonical_url, language, published_at, first_seen_at
FROM articles
WHERE article_id > $after
ORDER BY article_id
LIMIT $limit;
