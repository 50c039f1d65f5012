-- The outbox: one pending delivery per new alert and channel.
INSERT INTO deliveries (topic, article_id, channel, status)
SELECT topic, article_id, channel, 'pending' FROM batch
ON CONFLICT DO NOTHING;
