-- Web story page: the topics the story's articles matched.
SELECT m.topic, count(*) AS matches, max(m.score) AS best_score
FROM topic_matches AS m
JOIN articles AS a USING (article_id)
WHERE a.story_id = $story_id
GROUP BY m.topic
ORDER BY m.topic;
