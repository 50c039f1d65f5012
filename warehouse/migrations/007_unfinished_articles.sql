-- 007: articles whose later stages (stories, topics, alerts) have not committed yet. A run
-- stores its pages chunk by chunk; the load of a chunk writes these rows in its transaction,
-- and they are deleted once the chunk's alerts are recorded. A run that died in between leaves
-- them, and the next run finishes those articles first. Idempotent.
CREATE TABLE IF NOT EXISTS unfinished_articles (
    article_id  VARCHAR PRIMARY KEY,
    run_id      VARCHAR NOT NULL,
    new         BOOLEAN NOT NULL,
    loaded_at   TIMESTAMPTZ NOT NULL
);
