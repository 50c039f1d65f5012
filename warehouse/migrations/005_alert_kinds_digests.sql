-- 005: an alert has a kind (the first alert of a story, or the follow-up when the story passes
-- `[alerts] follow_up_outlets`); a delivery can be held by the topic's rate cap or left to the
-- digest; digests are recorded per topic, period and channel. DuckDB cannot change a primary
-- key in place, so alerts and deliveries are rebuilt. Idempotent: `UNION ALL BY NAME` with an
-- empty row of the new columns reads them when the table has them already and NULL when not.
CREATE OR REPLACE TABLE alerts_005 (
    topic      VARCHAR NOT NULL,
    article_id VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL DEFAULT 'first' CHECK (kind IN ('first', 'follow_up')),
    created_at TIMESTAMPTZ NOT NULL,
    run_id     VARCHAR NOT NULL,
    story_id   VARCHAR,
    outlets    INTEGER,
    PRIMARY KEY (topic, article_id, kind)
);
INSERT INTO alerts_005 (topic, article_id, kind, created_at, run_id, story_id, outlets)
SELECT a.topic, a.article_id, coalesce(a.kind, 'first'), a.created_at, a.run_id, a.story_id,
       coalesce(a.outlets, s.outlets)
FROM (SELECT * FROM alerts
      UNION ALL BY NAME SELECT NULL::VARCHAR AS kind, NULL::INTEGER AS outlets WHERE false) AS a
LEFT JOIN stories AS s USING (story_id);
DROP TABLE alerts;
ALTER TABLE alerts_005 RENAME TO alerts;

CREATE OR REPLACE TABLE deliveries_005 (
    topic        VARCHAR NOT NULL,
    article_id   VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL DEFAULT 'first' CHECK (kind IN ('first', 'follow_up')),
    channel      VARCHAR NOT NULL,
    status       VARCHAR NOT NULL
                 CHECK (status IN ('pending', 'sent', 'failed', 'capped', 'digest')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   VARCHAR,
    delivered_at TIMESTAMPTZ,
    PRIMARY KEY (topic, article_id, kind, channel)
);
INSERT INTO deliveries_005 (topic, article_id, kind, channel, status, attempts, last_error,
                            delivered_at)
SELECT topic, article_id, coalesce(kind, 'first'), channel, status, attempts, last_error,
       delivered_at
FROM (SELECT * FROM deliveries
      UNION ALL BY NAME SELECT NULL::VARCHAR AS kind WHERE false);
DROP TABLE deliveries;
ALTER TABLE deliveries_005 RENAME TO deliveries;

CREATE TABLE IF NOT EXISTS digests (
    topic        VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,
    period_start TIMESTAMPTZ NOT NULL,
    period_end   TIMESTAMPTZ NOT NULL,
    stories      INTEGER NOT NULL,
    title        VARCHAR NOT NULL,
    body         VARCHAR NOT NULL,
    status       VARCHAR NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   VARCHAR,
    delivered_at TIMESTAMPTZ,
    PRIMARY KEY (topic, channel, period_end)
);

-- The outlets of each story: its articles' own and those of their sightings (copies).
CREATE OR REPLACE VIEW story_outlets AS
SELECT a.story_id, list(DISTINCT o.outlet ORDER BY o.outlet) AS outlets
FROM articles AS a
JOIN (SELECT article_id, outlet FROM articles
      UNION SELECT article_id, outlet FROM sightings) AS o USING (article_id)
WHERE a.story_id IS NOT NULL
GROUP BY a.story_id;
