-- Stored articles that share a canonical URL or a content hash with the batch.
SELECT a.article_id, a.canonical_url, a.content_hash
FROM articles AS a
WHERE a.canonical_url IN (SELECT canonical_url FROM batch)
   OR a.content_hash IN (SELECT content_hash FROM batch);
