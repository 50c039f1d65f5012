-- Lake variant (no INSERT OR REPLACE, which needs a key): recompute the stories of the
-- batch's articles, then replace those rows.
CREATE OR REPLACE TEMP TABLE new_stories AS
WITH members AS (
    SELECT a.story_id, a.article_id, a.title, a.outlet,
           coalesce(a.published_at, a.first_seen_at) AS anchor, a.first_seen_at
    FROM articles AS a
    WHERE a.story_id IN (SELECT story_id FROM articles
                         WHERE article_id IN (SELECT article_id FROM batch))
), seen AS (
    SELECT m.story_id, s.outlet, s.seen_at
    FROM members AS m JOIN sightings AS s USING (article_id)
)
SELECT m.story_id,
       arg_min(m.title, (m.anchor, m.article_id)) AS title,
       arg_min(m.article_id, (m.anchor, m.article_id)) AS first_article_id,
       arg_min(m.outlet, (m.anchor, m.article_id)) AS first_outlet,
       min(m.first_seen_at) AS first_seen_at,
       greatest(max(m.first_seen_at), (SELECT max(seen_at) FROM seen WHERE seen.story_id = m.story_id)) AS last_seen_at,
       count(*) AS articles,
       (SELECT count(DISTINCT outlet) FROM (SELECT outlet FROM members AS x WHERE x.story_id = m.story_id
                                            UNION SELECT outlet FROM seen WHERE seen.story_id = m.story_id)) AS outlets
FROM members AS m
GROUP BY m.story_id;
DELETE FROM stories WHERE story_id IN (SELECT story_id FROM new_stories);
INSERT INTO stories SELECT * FROM new_stories;
