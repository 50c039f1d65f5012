-- Stored articles that share an LSH bucket with an article of the batch: for each batch
-- article, the $per_article that share the most bands with it (its likeliest copies; ties go
-- to the greater old_id). Without the bound a story's hundreds of stored copies, each with its
-- text, came back for every new copy: the query's result grew with the warehouse.
-- A stored article's text comes once, on the first of its rows (NULL on the others): many new
-- copies of one story share the same candidates.
WITH shared AS (
    SELECT b.article_id AS new_id, l.article_id AS old_id
    FROM batch AS b
    JOIN lsh_buckets AS l USING (band, bucket)
    GROUP BY b.article_id, l.article_id
    QUALIFY row_number() OVER (PARTITION BY b.article_id
                               ORDER BY count(*) DESC, l.article_id DESC) <= $per_article
)
SELECT s.new_id, s.old_id, a.story_id,
       CASE WHEN row_number() OVER (PARTITION BY s.old_id ORDER BY s.new_id) = 1
            THEN a.text END AS text
FROM shared AS s
JOIN articles AS a ON a.article_id = s.old_id;
