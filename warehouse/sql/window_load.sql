-- Per time bucket of the stored articles' seen_at: the join rows a similar-articles query over
-- the batch would aggregate, and the stored articles that give them. Each batch term counts
-- once, with the number of batch articles holding it (one join row per stored article that
-- holds the term), so this join is much smaller than the query's own. Two bounds on the (new,
-- stored) pairs of a stretch of buckets: its join rows (a pair shares at least one term), and
-- its articles times the batch's (where articles share many terms, far fewer). Each term's
-- window spans all its batch articles' windows, so both hold for each article's narrower one.
WITH terms AS (
    SELECT term, count(*) AS articles, min(anchor) AS first, max(anchor) AS last
    FROM batch
    GROUP BY term
)
SELECT time_bucket(to_minutes(CAST($bucket_minutes AS BIGINT)), t.seen_at) AS bucket,
       CAST(sum(terms.articles) AS BIGINT) AS join_rows,
       count(DISTINCT t.article_id) AS articles
FROM terms
JOIN article_terms AS t
  ON t.term = terms.term
 AND t.seen_at BETWEEN terms.first - to_days(CAST($window_days AS INTEGER))
                   AND terms.last + to_days(CAST($window_days AS INTEGER))
GROUP BY bucket
ORDER BY bucket;
