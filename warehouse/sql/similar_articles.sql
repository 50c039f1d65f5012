-- Stored articles within the story window of a batch article, with their tf-idf cosine
-- (both vectors are unit length over their top terms). Rows are appended in time order, so
-- DuckDB's zone maps skip old row groups of article_terms.
SELECT b.article_id AS new_id, t.article_id AS old_id, a.story_id,
       sum(b.weight * t.weight) AS cosine
FROM batch AS b
JOIN article_terms AS t
  ON t.term = b.term
 AND t.seen_at BETWEEN b.anchor - to_days(CAST($window_days AS INTEGER))
                   AND b.anchor + to_days(CAST($window_days AS INTEGER))
JOIN articles AS a ON a.article_id = t.article_id
GROUP BY ALL
HAVING sum(b.weight * t.weight) >= $floor;
