-- Lake variant: one sighting per (article, URL).
INSERT INTO sightings
SELECT DISTINCT ON (article_id, url) article_id, url, outlet, feed_url, seen_at
FROM batch AS b
WHERE NOT EXISTS (SELECT 1 FROM sightings AS s
                  WHERE s.article_id = b.article_id AND s.url = b.url);
