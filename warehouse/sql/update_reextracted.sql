-- `newswatch reextract`: the new text of articles whose extraction changed.
UPDATE articles SET title = coalesce(b.title, articles.title), text = b.text,
    content_hash = b.content_hash, updated_at = b.at
FROM batch AS b
WHERE articles.article_id = b.article_id;
