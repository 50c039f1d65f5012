-- Web story page: every article of the story (near-duplicates name the article they copy).
SELECT a.article_id, a.outlet, a.title, a.url, a.published_at, a.first_seen_at, a.version,
       a.extraction_method, a.near_duplicate_of, c.outlet AS copy_of_outlet,
       c.title AS copy_of_title
FROM articles AS a
LEFT JOIN articles AS c ON c.article_id = a.near_duplicate_of
WHERE a.story_id = $story_id
ORDER BY coalesce(a.published_at, a.first_seen_at), a.article_id;
