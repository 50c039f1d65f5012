-- Web search: the articles first seen or changed since $newest / $updated: a cached search
-- drops its hits among them and judges them again.
SELECT article_id FROM articles
WHERE first_seen_at >= $newest OR updated_at >= $updated
   OR ($updated IS NULL AND updated_at IS NOT NULL);
