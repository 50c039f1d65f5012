-- Lake variant: one match per (topic, article); returns the new ones' topics.
CREATE OR REPLACE TEMP TABLE new_matches AS
SELECT topic, article_id, matched_at, score, terms, run_id, snippet, probability, relevant
FROM batch AS b
WHERE NOT EXISTS (SELECT 1 FROM topic_matches AS m
                  WHERE m.topic = b.topic AND m.article_id = b.article_id)
QUALIFY row_number() OVER (PARTITION BY topic, article_id ORDER BY score DESC) = 1;
INSERT INTO topic_matches (topic, article_id, matched_at, score, terms, run_id, snippet,
                           probability, relevant)
SELECT * FROM new_matches;
SELECT topic FROM new_matches;
