-- Lake variant: one article per id and per canonical URL, kept by inserting only absent keys
-- (under the lake's writer turn).
INSERT INTO articles BY NAME
SELECT article_id, url, canonical_url, title, text, author, published_at, language, outlet,
       feed_url, content_hash, extraction_method, first_seen_at, run_id, 1 AS version,
       warc_file, warc_offset, claimed_canonical_url
FROM batch AS b
-- Two anti-joins, not one on `id = id OR url = url`: DuckDB hash-joins each, where the OR made a
-- nested-loop join over every stored article (0.78 s against 0.03 s for 200 new articles
-- against 2,000,000 stored, in memory).
WHERE NOT EXISTS (SELECT 1 FROM articles AS a WHERE a.article_id = b.article_id)
  AND NOT EXISTS (SELECT 1 FROM articles AS a WHERE a.canonical_url = b.canonical_url)
QUALIFY row_number() OVER (PARTITION BY canonical_url ORDER BY article_id) = 1
    AND row_number() OVER (PARTITION BY article_id ORDER BY canonical_url) = 1;
