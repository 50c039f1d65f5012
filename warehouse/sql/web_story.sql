-- Web story page: the story, and the clean text of its first report.
SELECT s.*, a.text AS first_text, a.url AS first_url, a.title AS first_title
FROM stories AS s
JOIN articles AS a ON a.article_id = s.first_article_id
WHERE s.story_id = $story_id;
