INSERT INTO fetch_log
SELECT run_id, fetched_at, kind, url, final_url, status, reason, http_status, bytes, elapsed_ms
FROM batch;
