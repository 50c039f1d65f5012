-- 004: alerts are once per (topic, story): later copies and reports of a story do not alert.
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS story_id VARCHAR;
UPDATE alerts SET story_id = a.story_id
FROM articles AS a
WHERE alerts.article_id = a.article_id AND alerts.story_id IS NULL;
