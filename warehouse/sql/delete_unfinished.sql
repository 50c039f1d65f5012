-- Their stories, matches and alerts are committed: nothing left to finish.
DELETE FROM unfinished_articles WHERE article_id IN (SELECT article_id FROM batch);
