-- Web search: how many articles were first seen before $newest. A cached search is brought up
-- to date only while this is what it was then (no article arrived with an older time).
SELECT count(*) FROM articles WHERE first_seen_at < $newest;
