-- The outbox: one delivery per new alert and channel; pending, or held by the topic's rate
-- cap ('capped') or its digest mode ('digest') for the digest to carry.
INSERT INTO deliveries (topic, article_id, kind, channel, status)
SELECT topic, article_id, kind, channel, status FROM batch
ON CONFLICT DO NOTHING;
