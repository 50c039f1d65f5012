-- 009: items that share a page keep their own text (it becomes their article, method
-- feed_content), and articles record why a page's canonical URL was not trusted. Idempotent.
ALTER TABLE entries ADD COLUMN IF NOT EXISTS content VARCHAR;
ALTER TABLE entries ADD COLUMN IF NOT EXISTS author VARCHAR;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS claimed_canonical_url VARCHAR;
-- articles.extraction_method gains 'feed_content'. DuckDB cannot drop or change a CHECK
-- constraint, nor change the type of a checked column, so the column is replaced (it moves
-- to the end of the table, and every query names its columns). The closed set is kept in code
-- (tasks/models.Extraction.method) and documented in warehouse/README.md. (SET NOT NULL is
-- left out: DuckDB refuses it in the same transaction as the UPDATE. Inserts always set it.)
ALTER TABLE articles RENAME COLUMN extraction_method TO extraction_method_001;
ALTER TABLE articles ADD COLUMN extraction_method VARCHAR;
UPDATE articles SET extraction_method = extraction_method_001;
ALTER TABLE articles DROP COLUMN extraction_method_001;
