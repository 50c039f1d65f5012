-- Web search: what identifies the articles' current state (a cached search is reused while
-- it holds, and brought up to date with the articles first seen or changed since): their
-- number, the newest first seen, the latest change, and how many were first seen before the
-- newest.
SELECT count(*) AS n, max(first_seen_at) AS newest, max(updated_at) AS updated,
       count(*) FILTER (WHERE first_seen_at < (SELECT max(first_seen_at) FROM articles))
           AS settled
FROM articles;
