-- 006: feed health and per-feed intervals, retries and redirects in the fetch log, offline
-- runs, and each article's raw response in the WARC archive. Idempotent.
ALTER TABLE feeds ADD COLUMN IF NOT EXISTS body_hash VARCHAR;
ALTER TABLE feeds ADD COLUMN IF NOT EXISTS failure_weight DOUBLE DEFAULT 0;
ALTER TABLE feeds ADD COLUMN IF NOT EXISTS interval_min INTEGER;
ALTER TABLE feeds ADD COLUMN IF NOT EXISTS conditional_polls INTEGER DEFAULT 0;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS offline BOOLEAN DEFAULT false;
ALTER TABLE fetch_log ADD COLUMN IF NOT EXISTS attempts INTEGER;
ALTER TABLE fetch_log ADD COLUMN IF NOT EXISTS redirects VARCHAR[];
ALTER TABLE articles ADD COLUMN IF NOT EXISTS warc_file VARCHAR;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS warc_offset BIGINT;
