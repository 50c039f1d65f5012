-- The batch's articles, oldest first, with the time that places them in a story window.
SELECT article_id, title, text, outlet, coalesce(published_at, first_seen_at) AS anchor
FROM articles
WHERE article_id IN (SELECT article_id FROM batch)
ORDER BY anchor, article_id;
