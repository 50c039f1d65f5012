SELECT kind, url, status, reason
FROM fetch_log
WHERE run_id = $run_id AND status NOT IN ('ok', 'not_modified')
ORDER BY kind, url;
