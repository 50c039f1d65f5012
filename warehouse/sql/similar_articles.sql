-- For each batch article, the stored article within its story window with the highest tf-idf
-- cosine (both vectors are unit length over their top terms); ties go to the greater old_id, as
-- Python's max() over (cosine, old_id, story_id) would. Cosines are rounded to 12 places so
-- that float noise from the order of summation cannot decide a tie.
-- Pairs are summed on the two ids alone and the story looked up only for each winner: joining
-- articles before the aggregate carried story ids through millions of term pairs, ran 6x slower
-- and could not finish within the query's memory limit. Only the best pair is returned, as only
-- the best is used. Rows are appended in time order, so DuckDB's zone maps skip old row groups
-- of article_terms.
WITH pairs AS (
    SELECT b.article_id AS new_id, t.article_id AS old_id,
           round(sum(b.weight * t.weight), 12) AS cosine
    FROM batch AS b
    JOIN article_terms AS t
      ON t.term = b.term
     AND t.seen_at BETWEEN b.anchor - to_days(CAST($window_days AS INTEGER))
                       AND b.anchor + to_days(CAST($window_days AS INTEGER))
    GROUP BY b.article_id, t.article_id
    HAVING sum(b.weight * t.weight) >= $floor
), best AS (
    SELECT new_id, max({'cosine': cosine, 'old_id': old_id}) AS m
    FROM pairs
    GROUP BY new_id
)
SELECT best.new_id, best.m.old_id AS old_id, a.story_id, best.m.cosine AS cosine
FROM best
JOIN articles AS a ON a.article_id = best.m.old_id;
