-- New feed entries; an entry seen before (by URL) is left as it is. Returns the new ones.
INSERT INTO entries (entry_url, feed_url, guid, title, summary, published_at, first_seen_at,
                     state, content, author)
SELECT entry_url, feed_url, guid, title, summary, published_at, first_seen_at, 'pending',
       content, author
FROM batch
QUALIFY row_number() OVER (PARTITION BY entry_url ORDER BY published_at NULLS LAST) = 1
ON CONFLICT (entry_url) DO NOTHING
RETURNING entry_url;
