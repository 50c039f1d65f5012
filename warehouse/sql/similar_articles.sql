-- For each batch article, the stored article within its story window with the highest tf-idf
-- cosine (both vectors are unit length over their top terms); ties go to the greater ids, as
-- Python's max() over (cosine, old_id, story_id) would. Only the best is returned, as only the
-- best is used: a batch article can share terms with most of the window. Rows are appended in
-- time order, so DuckDB's zone maps skip old row groups of article_terms.
SELECT b.article_id AS new_id, t.article_id AS old_id, a.story_id,
       sum(b.weight * t.weight) AS cosine
FROM batch AS b
JOIN article_terms AS t
  ON t.term = b.term
 AND t.seen_at BETWEEN b.anchor - to_days(CAST($window_days AS INTEGER))
                   AND b.anchor + to_days(CAST($window_days AS INTEGER))
JOIN articles AS a ON a.article_id = t.article_id
GROUP BY b.article_id, t.article_id, a.story_id
HAVING sum(b.weight * t.weight) >= $floor
QUALIFY row_number() OVER (PARTITION BY new_id ORDER BY cosine DESC, old_id DESC,
                                                  story_id DESC) = 1;
