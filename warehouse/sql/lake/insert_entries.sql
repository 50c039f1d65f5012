-- Lake variant: new feed entries (by URL); returns the new ones.
CREATE OR REPLACE TEMP TABLE new_entries AS
SELECT entry_url, feed_url, guid, title, summary, published_at, first_seen_at,
       'pending' AS state, content, author
FROM batch AS b
WHERE NOT EXISTS (SELECT 1 FROM entries AS e WHERE e.entry_url = b.entry_url)
QUALIFY row_number() OVER (PARTITION BY entry_url ORDER BY published_at NULLS LAST) = 1;
INSERT INTO entries (entry_url, feed_url, guid, title, summary, published_at, first_seen_at,
                     state, content, author)
SELECT * FROM new_entries;
SELECT entry_url FROM new_entries;
