SELECT
    (SELECT count(*) FROM articles) AS articles,
    (SELECT count(*) FROM entries WHERE state = 'pending') AS entries_pending,
    (SELECT count(*) FROM entries WHERE state = 'failed') AS entries_failed,
    (SELECT count(*) FROM topic_matches) AS matches,
    (SELECT count(*) FROM alerts) AS alerts,
    (SELECT count(*) FROM deliveries WHERE status = 'failed') AS deliveries_failed,
    (SELECT max(finished_at) FROM runs WHERE status = 'ok') AS last_run;
