-- Alert deliveries that have not gone out, for `newswatch status`.
SELECT d.topic, d.channel, d.attempts, d.last_error, d.attempts >= $max_attempts AS gave_up
FROM deliveries AS d
WHERE d.status = 'failed'
ORDER BY gave_up DESC, d.topic, d.channel;
