-- Lake variant: one digest per (topic, channel, period_end).
INSERT INTO digests (topic, channel, period_start, period_end, stories, title, body, status)
SELECT DISTINCT ON (topic, channel, period_end)
       topic, channel, period_start, period_end, stories, title, body, 'pending'
FROM batch AS b
WHERE NOT EXISTS (SELECT 1 FROM digests AS d
                  WHERE d.topic = b.topic AND d.channel = b.channel
                    AND d.period_end = b.period_end);
