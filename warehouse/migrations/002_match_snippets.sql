-- 002: a match keeps the snippet that shows why it matched.
ALTER TABLE topic_matches ADD COLUMN IF NOT EXISTS snippet VARCHAR;
