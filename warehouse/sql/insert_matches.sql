INSERT INTO topic_matches (topic, article_id, matched_at, score, terms, run_id, snippet,
                           probability, relevant)
SELECT topic, article_id, matched_at, score, terms, run_id, snippet, probability, relevant
FROM batch
ON CONFLICT DO NOTHING
RETURNING topic;
