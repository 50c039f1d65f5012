-- 001: the first schema. Idempotent: every statement may run again on an existing file.

CREATE TABLE IF NOT EXISTS feeds (
    feed_url        VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    outlet          VARCHAR NOT NULL,
    local           BOOLEAN NOT NULL,
    enabled         BOOLEAN NOT NULL,
    added_at        TIMESTAMPTZ NOT NULL,
    etag            VARCHAR,
    last_modified   VARCHAR,
    last_fetched_at TIMESTAMPTZ,
    last_status     VARCHAR,
    last_reason     VARCHAR,
    last_ok_at      TIMESTAMPTZ,
    error_count     INTEGER NOT NULL DEFAULT 0,
    next_due_at     TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS runs (
    run_id          VARCHAR PRIMARY KEY,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    status          VARCHAR NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
    feeds_polled    INTEGER,
    entries_new     INTEGER,
    pages_fetched   INTEGER,
    articles_new    INTEGER,
    matches_new     INTEGER,
    alerts_new      INTEGER,
    stage_seconds   JSON
);

CREATE TABLE IF NOT EXISTS fetch_log (
    run_id      VARCHAR NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL,
    kind        VARCHAR NOT NULL CHECK (kind IN ('feed', 'page')),
    url         VARCHAR NOT NULL,
    final_url   VARCHAR,
    status      VARCHAR NOT NULL CHECK (status IN ('ok', 'not_modified', 'soft', 'temp', 'hard')),
    reason      VARCHAR NOT NULL,
    http_status INTEGER,
    bytes       BIGINT,
    elapsed_ms  INTEGER
);

CREATE TABLE IF NOT EXISTS entries (
    entry_url     VARCHAR PRIMARY KEY,
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
    article_id    VARCHAR
);

CREATE TABLE IF NOT EXISTS articles (
    article_id        VARCHAR PRIMARY KEY,
    url               VARCHAR NOT NULL,
    canonical_url     VARCHAR NOT NULL UNIQUE,
    title             VARCHAR,
    text              VARCHAR NOT NULL,
    author            VARCHAR,
    published_at      TIMESTAMPTZ,
    language          VARCHAR,
    outlet            VARCHAR NOT NULL,
    feed_url          VARCHAR NOT NULL,
    content_hash      VARCHAR NOT NULL,
    extraction_method VARCHAR NOT NULL CHECK (extraction_method IN ('trafilatura', 'feed_summary')),
    duplicate_of      VARCHAR,
    first_seen_at     TIMESTAMPTZ NOT NULL,
    run_id            VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS extract_log (
    run_id       VARCHAR NOT NULL,
    extracted_at TIMESTAMPTZ NOT NULL,
    entry_url    VARCHAR NOT NULL,
    status       VARCHAR NOT NULL CHECK (status IN ('ok', 'fallback', 'no_article', 'failed')),
    reason       VARCHAR NOT NULL,
    chars        INTEGER,
    elapsed_ms   INTEGER
);

CREATE TABLE IF NOT EXISTS topic_matches (
    topic      VARCHAR NOT NULL,
    article_id VARCHAR NOT NULL,
    matched_at TIMESTAMPTZ NOT NULL,
    score      DOUBLE NOT NULL,
    terms      VARCHAR[] NOT NULL,
    run_id     VARCHAR NOT NULL,
    PRIMARY KEY (topic, article_id)
);

CREATE TABLE IF NOT EXISTS alerts (
    topic      VARCHAR NOT NULL,
    article_id VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    run_id     VARCHAR NOT NULL,
    PRIMARY KEY (topic, article_id)
);

CREATE TABLE IF NOT EXISTS deliveries (
    topic        VARCHAR NOT NULL,
    article_id   VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,
    status       VARCHAR NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   VARCHAR,
    delivered_at TIMESTAMPTZ,
    PRIMARY KEY (topic, article_id, channel)
);
