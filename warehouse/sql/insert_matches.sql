INSERT INTO topic_matches
SELECT topic, article_id, matched_at, score, terms, run_id, snippet FROM batch
ON CONFLICT DO NOTHING
RETURNING topic;
