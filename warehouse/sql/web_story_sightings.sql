-- Web story page: every URL where the story's articles were seen, and the versions of their
-- text.
SELECT s.article_id, s.outlet, s.url, s.seen_at, a.version
FROM sightings AS s
JOIN articles AS a USING (article_id)
WHERE a.story_id = $story_id
ORDER BY s.seen_at, s.url;
