-- Web search: what identifies the articles' current state (a cached search is reused while
-- it holds).
SELECT count(*) AS n, max(first_seen_at) AS newest, max(updated_at) AS updated
FROM articles;
