-- Entries still waiting for their page (new ones and earlier temporary failures), as keys:
-- a run holds these and reads each chunk's entries whole when it fetches them.
SELECT entry_url, feed_url
FROM entries
WHERE state = 'pending' AND attempts < $max_attempts
ORDER BY first_seen_at, entry_url;
