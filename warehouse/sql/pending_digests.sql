-- Digests not yet sent: new ones and earlier failures under the attempt cap, oldest first.
SELECT topic, channel, period_start, period_end, stories, title, body
FROM digests
WHERE status = 'pending' OR (status = 'failed' AND attempts < $max_attempts)
ORDER BY period_end, topic, channel;
