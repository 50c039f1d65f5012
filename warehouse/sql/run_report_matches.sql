SELECT m.topic, a.title, a.outlet, m.score, m.probability, m.relevant,
       EXISTS (SELECT 1 FROM alerts AS x WHERE x.topic = m.topic AND x.article_id = m.article_id
                                         AND x.run_id = $run_id) AS alerted
FROM topic_matches AS m JOIN articles AS a USING (article_id)
WHERE m.run_id = $run_id
ORDER BY m.topic, m.score DESC, a.title;
