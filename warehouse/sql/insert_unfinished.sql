-- A chunk's articles whose stories, topic matches and alerts are still to come: the new ones
-- (to place and match) and the known ones seen again (their stories' outlets to refresh).
INSERT INTO unfinished_articles
SELECT article_id, run_id, new, loaded_at FROM batch
QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY new DESC) = 1
ON CONFLICT DO UPDATE SET new = unfinished_articles.new OR excluded.new;
