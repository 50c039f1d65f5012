-- Alert and digest deliveries that have not gone out, for `newswatch status`.
SELECT topic, channel, attempts, last_error, gave_up
FROM (
    SELECT d.topic, d.channel, d.attempts, d.last_error, d.attempts >= $max_attempts AS gave_up
    FROM deliveries AS d WHERE d.status = 'failed'
    UNION ALL
    SELECT g.topic || ' (digest)', g.channel, g.attempts, g.last_error,
           g.attempts >= $max_attempts
    FROM digests AS g WHERE g.status = 'failed'
)
ORDER BY gave_up DESC, topic, channel;
