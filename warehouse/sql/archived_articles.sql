-- Articles whose raw response is in the archive, in file order (one pass over each file).
SELECT article_id, title, text, content_hash, warc_file, warc_offset
FROM articles
WHERE warc_file IS NOT NULL
ORDER BY warc_file, warc_offset;
