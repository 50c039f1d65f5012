INSERT INTO articles BY NAME
SELECT article_id, url, canonical_url, title, text, author, published_at, language, outlet,
       feed_url, content_hash, extraction_method, first_seen_at, run_id, 1 AS version,
       warc_file, warc_offset, claimed_canonical_url
FROM batch
ON CONFLICT DO NOTHING;
