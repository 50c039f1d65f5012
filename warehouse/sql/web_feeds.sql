-- Web feeds page: every feed's health, failing first, with its entries of the last day.
SELECT f.name, f.outlet, f.feed_url, f.enabled, f.last_status, f.last_reason,
       f.last_fetched_at, f.last_ok_at, f.next_due_at, f.error_count,
       coalesce(f.failure_weight, 0) AS failure_weight, f.interval_min,
       (SELECT count(*) FROM entries AS e
        WHERE e.feed_url = f.feed_url AND e.first_seen_at >= $since) AS entries_day
FROM feeds AS f
ORDER BY coalesce(f.last_status NOT IN ('ok', 'not_modified'), false) DESC,
         f.failure_weight DESC NULLS LAST, f.enabled DESC, f.name;
