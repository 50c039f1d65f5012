INSERT INTO extract_log
SELECT run_id, extracted_at, entry_url, status, reason, chars, elapsed_ms FROM batch;
