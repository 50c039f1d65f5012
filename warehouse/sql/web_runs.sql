-- Web feeds page: the last runs, newest first, with their stage timings.
SELECT run_id, started_at, finished_at, status, offline, feeds_polled, entries_new,
       pages_fetched, articles_new, matches_new, alerts_new, CAST(stage_seconds AS VARCHAR)
       AS stage_seconds
FROM runs
ORDER BY started_at DESC
LIMIT $limit;
