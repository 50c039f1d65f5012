-- Web story page: earlier versions of the story's articles (the latest is in articles).
SELECT v.article_id, v.version, v.title, v.seen_at
FROM article_versions AS v
JOIN articles AS a USING (article_id)
WHERE a.story_id = $story_id
ORDER BY v.article_id, v.version;
