-- One alert per (topic, article), ever: a match already alerted is not alerted again.
INSERT INTO alerts
SELECT topic, article_id, matched_at, run_id FROM batch
ON CONFLICT DO NOTHING
RETURNING topic, article_id;
