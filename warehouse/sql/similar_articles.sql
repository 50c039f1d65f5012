-- For each batch article, the stored article within its story window with the highest tf-idf
-- cosine (both vectors are unit length over their top terms); ties go to the greater old_id, as
-- Python's max() over (cosine, old_id, story_id) would. Cosines are rounded to 12 places so
-- that float noise from the order of summation cannot decide a tie.
-- Pairs are summed on the two ids alone (joining articles before the aggregate carried story
-- ids through millions of term pairs, ran 6x slower and could not finish within the query's
-- memory limit), and stories are looked up afterwards for the winners of all stretches at once
-- (story_of_articles.sql): looked up in each stretch's query, the articles table's key index
-- loaded piece by piece into the query's memory, 38 MiB of 96 after 66 stretches of a 1.5
-- million-article window, and the next aggregate ran out. Only the best pair is returned, as
-- only the best is used. The query reads one stretch of the window, [$lo, $hi): rows are
-- appended in time order, so DuckDB's zone maps skip the row groups of article_terms outside
-- it, and a window read in stretches is read once (window_load.sql sizes the stretches).
WITH pairs AS (
    SELECT b.article_id AS new_id, t.article_id AS old_id,
           round(sum(b.weight * t.weight), 12) AS cosine
    FROM batch AS b
    JOIN article_terms AS t
      ON t.term = b.term
     AND t.seen_at BETWEEN b.anchor - to_days(CAST($window_days AS INTEGER))
                       AND b.anchor + to_days(CAST($window_days AS INTEGER))
     AND t.seen_at >= $lo AND t.seen_at < $hi
    GROUP BY b.article_id, t.article_id
    HAVING sum(b.weight * t.weight) >= $floor
)
SELECT new_id, max({'cosine': cosine, 'old_id': old_id}) AS m
FROM pairs
GROUP BY new_id;
