INSERT INTO digests (topic, channel, period_start, period_end, stories, title, body, status)
SELECT topic, channel, period_start, period_end, stories, title, body, 'pending' FROM batch
ON CONFLICT DO NOTHING;
