INSERT INTO articles
SELECT article_id, url, canonical_url, title, text, author, published_at, language, outlet,
       feed_url, content_hash, extraction_method, duplicate_of, first_seen_at, run_id
FROM batch
ON CONFLICT DO NOTHING;
