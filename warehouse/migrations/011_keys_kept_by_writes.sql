-- not on a lake (its tables never had these constraints)
-- 011: the tables that grow with every entry and article keep their keys by how we write, as a
-- lake's do (warehouse/sql/: each insert adds only absent keys, under the writer's turn), not
-- by PRIMARY KEY / UNIQUE constraints. DuckDB keeps a constraint's index (an ART) wholly in
-- memory: each write loaded it, and each checkpoint (every close) wrote it out again whole, so
-- a chunk's load took memory and time in proportion to everything stored before
-- (bench/day_bench.py: the load's peak grew ~60 -> ~130 MB within 4,000 articles; on a copy
-- of that warehouse a chunk's load peaked 109-114 MB keyed, 73-83 keyless, 0.19 -> 0.13 s).
-- Each table is copied into a keyless twin (same columns, NOT NULL and CHECKs) and swapped in.

CREATE TABLE entries__keyless (
    entry_url     VARCHAR NOT NULL,
    feed_url      VARCHAR NOT NULL,
    guid          VARCHAR,
    title         VARCHAR,
    summary       VARCHAR,
    published_at  TIMESTAMPTZ,
    first_seen_at TIMESTAMPTZ NOT NULL,
    state         VARCHAR NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_status   VARCHAR,
    last_reason   VARCHAR,
    article_id    VARCHAR,
    content       VARCHAR,
    author        VARCHAR
);
INSERT INTO entries__keyless BY NAME SELECT * FROM entries;
DROP TABLE entries;
ALTER TABLE entries__keyless RENAME TO entries;

CREATE TABLE articles__keyless (
    article_id            VARCHAR NOT NULL,
    url                   VARCHAR NOT NULL,
    canonical_url         VARCHAR NOT NULL,
    title                 VARCHAR,
    text                  VARCHAR NOT NULL,
    author                VARCHAR,
    published_at          TIMESTAMPTZ,
    language              VARCHAR,
    outlet                VARCHAR NOT NULL,
    feed_url              VARCHAR NOT NULL,
    content_hash          VARCHAR NOT NULL,
    duplicate_of          VARCHAR,
    first_seen_at         TIMESTAMPTZ NOT NULL,
    run_id                VARCHAR NOT NULL,
    story_id              VARCHAR,
    near_duplicate_of     VARCHAR,
    version               INTEGER DEFAULT 1,
    updated_at            TIMESTAMPTZ,
    warc_file             VARCHAR,
    warc_offset           BIGINT,
    claimed_canonical_url VARCHAR,
    extraction_method     VARCHAR
);
INSERT INTO articles__keyless BY NAME SELECT * FROM articles;
DROP TABLE articles;
ALTER TABLE articles__keyless RENAME TO articles;

CREATE TABLE sightings__keyless (
    article_id VARCHAR NOT NULL,
    url        VARCHAR NOT NULL,
    outlet     VARCHAR NOT NULL,
    feed_url   VARCHAR,
    seen_at    TIMESTAMPTZ NOT NULL
);
INSERT INTO sightings__keyless BY NAME SELECT * FROM sightings;
DROP TABLE sightings;
ALTER TABLE sightings__keyless RENAME TO sightings;

CREATE TABLE article_versions__keyless (
    article_id   VARCHAR NOT NULL,
    version      INTEGER NOT NULL,
    content_hash VARCHAR NOT NULL,
    title        VARCHAR,
    text         VARCHAR NOT NULL,
    seen_at      TIMESTAMPTZ NOT NULL
);
INSERT INTO article_versions__keyless BY NAME SELECT * FROM article_versions;
DROP TABLE article_versions;
ALTER TABLE article_versions__keyless RENAME TO article_versions;

CREATE TABLE stories__keyless (
    story_id         VARCHAR NOT NULL,
    title            VARCHAR,
    first_article_id VARCHAR NOT NULL,
    first_outlet     VARCHAR NOT NULL,
    first_seen_at    TIMESTAMPTZ NOT NULL,
    last_seen_at     TIMESTAMPTZ NOT NULL,
    articles         INTEGER NOT NULL,
    outlets          INTEGER NOT NULL
);
INSERT INTO stories__keyless BY NAME SELECT * FROM stories;
DROP TABLE stories;
ALTER TABLE stories__keyless RENAME TO stories;

CREATE TABLE term_df__keyless (
    term VARCHAR NOT NULL,
    df   INTEGER NOT NULL
);
INSERT INTO term_df__keyless BY NAME SELECT * FROM term_df;
DROP TABLE term_df;
ALTER TABLE term_df__keyless RENAME TO term_df;
