-- Articles a run before this one loaded but did not see through stories, topics and alerts,
-- and whether each still needs a story.
SELECT u.article_id, u.new, a.story_id IS NULL AS unplaced
FROM unfinished_articles AS u JOIN articles AS a USING (article_id)
ORDER BY u.loaded_at, u.article_id;
