-- Lake variant: one delivery per (topic, article, kind, channel).
INSERT INTO deliveries (topic, article_id, kind, channel, status)
SELECT DISTINCT ON (topic, article_id, kind, channel) topic, article_id, kind, channel, status
FROM batch AS b
WHERE NOT EXISTS (SELECT 1 FROM deliveries AS d
                  WHERE d.topic = b.topic AND d.article_id = b.article_id
                    AND d.kind = b.kind AND d.channel = b.channel);
