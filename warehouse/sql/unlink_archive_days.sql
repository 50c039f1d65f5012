-- The maintenance flow deletes expired archive days; their records no longer exist.
UPDATE articles SET warc_file = NULL, warc_offset = NULL
WHERE list_contains($days, split_part(warc_file, '/', 1));
