-- Lake variant: keep the old version (once), store the new one as the latest.
INSERT INTO article_versions
SELECT a.article_id, a.version, a.content_hash, a.title, a.text,
       coalesce(a.updated_at, a.first_seen_at)
FROM articles AS a WHERE a.article_id IN (SELECT article_id FROM batch)
  AND NOT EXISTS (SELECT 1 FROM article_versions AS v
                  WHERE v.article_id = a.article_id AND v.version = a.version);
UPDATE articles SET title = b.title, text = b.text, content_hash = b.content_hash,
       version = articles.version + 1, updated_at = b.seen_at
FROM batch AS b WHERE articles.article_id = b.article_id;
