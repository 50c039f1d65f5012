UPDATE articles SET story_id = b.story_id, near_duplicate_of = b.near_duplicate_of
FROM batch AS b WHERE articles.article_id = b.article_id;
