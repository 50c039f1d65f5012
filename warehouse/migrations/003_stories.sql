-- 003: one story, many copies. Sightings of an article at other URLs, versions of its text,
-- near-duplicate links, stories, and the two lookup tables that make dedup and clustering
-- incremental: MinHash LSH buckets and each article's top tf-idf terms.

ALTER TABLE articles ADD COLUMN IF NOT EXISTS story_id VARCHAR;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS near_duplicate_of VARCHAR;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS version INTEGER DEFAULT 1;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS updated_at TIMESTAMPTZ;

CREATE TABLE IF NOT EXISTS sightings (
    article_id VARCHAR NOT NULL,
    url        VARCHAR NOT NULL,
    outlet     VARCHAR NOT NULL,
    feed_url   VARCHAR,
    seen_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, url)
);

-- Earlier versions of an article whose text changed; articles holds the latest.
CREATE TABLE IF NOT EXISTS article_versions (
    article_id   VARCHAR NOT NULL,
    version      INTEGER NOT NULL,
    content_hash VARCHAR NOT NULL,
    title        VARCHAR,
    text         VARCHAR NOT NULL,
    seen_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, version)
);

-- Every version of every article, the latest marked.
CREATE OR REPLACE VIEW article_history AS
SELECT article_id, version, content_hash, title, text, seen_at, false AS is_latest
FROM article_versions
UNION ALL
SELECT article_id, version, content_hash, title, text,
       coalesce(updated_at, first_seen_at) AS seen_at, true
FROM articles;

CREATE TABLE IF NOT EXISTS stories (
    story_id         VARCHAR PRIMARY KEY,
    title            VARCHAR,
    first_article_id VARCHAR NOT NULL,
    first_outlet     VARCHAR NOT NULL,
    first_seen_at    TIMESTAMPTZ NOT NULL,
    last_seen_at     TIMESTAMPTZ NOT NULL,
    articles         INTEGER NOT NULL,
    outlets          INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS lsh_buckets (
    band       SMALLINT NOT NULL,
    bucket     BIGINT NOT NULL,
    article_id VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS article_terms (
    article_id VARCHAR NOT NULL,
    term       VARCHAR NOT NULL,
    weight     DOUBLE NOT NULL,
    seen_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS term_df (
    term VARCHAR PRIMARY KEY,
    df   INTEGER NOT NULL
);

-- Every stored article is seen at its own URL. An exact duplicate stored before 003 (same
-- text, another URL) becomes a sighting of its original.
INSERT INTO sightings
SELECT coalesce(duplicate_of, article_id), url, outlet, feed_url, first_seen_at FROM articles
ON CONFLICT DO NOTHING;
UPDATE entries SET article_id = a.duplicate_of
FROM articles AS a
WHERE entries.article_id = a.article_id AND a.duplicate_of IS NOT NULL;
DELETE FROM articles WHERE duplicate_of IS NOT NULL;

-- Articles stored before 003 are each their own story.
INSERT INTO stories
SELECT article_id, title, article_id, outlet, first_seen_at, first_seen_at, 1, 1
FROM articles WHERE story_id IS NULL
ON CONFLICT DO NOTHING;

UPDATE articles SET story_id = article_id WHERE story_id IS NULL;

-- articles.duplicate_of stays, always NULL from here on (sightings replace it): dropping it
-- would make this migration fail when run again.
