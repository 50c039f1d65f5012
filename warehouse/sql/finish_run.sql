UPDATE runs SET finished_at = $finished_at, status = $status, feeds_polled = $feeds_polled,
    entries_new = $entries_new, pages_fetched = $pages_fetched, articles_new = $articles_new,
    matches_new = $matches_new, alerts_new = $alerts_new, stage_seconds = $stage_seconds,
    offline = $offline
WHERE run_id = $run_id;
