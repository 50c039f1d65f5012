-- similar_articles.sql for a window too big to score every pair that shares a term (past
-- WHOLE_WINDOW_READS in tasks/stories.py: hundreds of thousands of stored articles). A new
-- article's candidates are the stored articles sharing one of its probe terms (its strongest,
-- marked in the batch), ranked by the partial cosine over those terms; its $candidates best in
-- this stretch are scored in full over all its terms, and the best of those is returned, ties to
-- the greater old_id as in similar_articles.sql. The partial sums run over a quarter of the
-- join rows; the full ones over the candidates' own rows of the stretch, read again.
WITH partial AS (
    SELECT b.article_id AS new_id, t.article_id AS old_id, sum(b.weight * t.weight) AS score
    FROM batch AS b
    JOIN article_terms AS t
      ON t.term = b.term
     AND t.seen_at BETWEEN b.anchor - to_days(CAST($window_days AS INTEGER))
                       AND b.anchor + to_days(CAST($window_days AS INTEGER))
     AND t.seen_at >= $lo AND t.seen_at < $hi
    WHERE b.probe
    GROUP BY b.article_id, t.article_id
),
candidates AS (
    SELECT new_id, unnest(max_by(old_id, {'score': score, 'old_id': old_id},
                                 CAST($candidates AS BIGINT))) AS old_id
    FROM partial
    GROUP BY new_id
),
pairs AS (
    SELECT c.new_id, c.old_id, round(sum(b.weight * t.weight), 12) AS cosine
    FROM candidates AS c
    JOIN (SELECT article_id, term, weight
          FROM article_terms
          WHERE seen_at >= $lo AND seen_at < $hi
            AND article_id IN (SELECT old_id FROM candidates)) AS t
      ON t.article_id = c.old_id
    JOIN batch AS b
      ON b.article_id = c.new_id AND b.term = t.term
    GROUP BY c.new_id, c.old_id
    HAVING sum(b.weight * t.weight) >= $floor
)
SELECT new_id, max({'cosine': cosine, 'old_id': old_id}) AS m
FROM pairs
GROUP BY new_id;
