-- Stored articles that share an LSH bucket with an article of the batch.
SELECT DISTINCT b.article_id AS new_id, l.article_id AS old_id, a.text, a.story_id
FROM batch AS b
JOIN lsh_buckets AS l USING (band, bucket)
JOIN articles AS a ON a.article_id = l.article_id;
