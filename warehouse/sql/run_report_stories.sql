-- New articles of a run with their stories, for the run's report.
SELECT a.title, a.outlet, s.outlets, a.story_id = a.article_id AS new_story,
       a.near_duplicate_of IS NOT NULL AS copy
FROM articles AS a JOIN stories AS s USING (story_id)
WHERE a.run_id = $run_id
ORDER BY new_story DESC, s.outlets DESC, a.published_at NULLS LAST, a.title;
