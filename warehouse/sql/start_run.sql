INSERT INTO runs (run_id, started_at, status) VALUES ($run_id, $started_at, 'running');
