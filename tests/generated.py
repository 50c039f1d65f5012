"""A large warehouse made in one go, for the web's browser tests and bench/web_bench.py: N
articles in S stories from 50 outlets over the D days before today (UTC), every 20th article
about "zeppelins" and matched by the topic `zeppelin-watch` (with its alerts and deliveries),
feeds (some failing) with entries, sightings and runs. Built with bulk SQL on the real schema
(the migrations)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse import db

TOPIC = "zeppelin-watch"
TOPICS_TOML = f'''[[topic]]
name = "{TOPIC}"
description = "Airships in the generated news"
query = "zeppelin*"
channels = []
'''
OUTLETS = 50
FAILING_FEEDS = 5  # every tenth feed failed its last poll: the feeds page lists them first

BUILD = """
CREATE TEMP TABLE syllables AS SELECT ['ka','lo','mi','ne','ru','ta','vo','si'] AS s;
CREATE TEMP TABLE nums AS
SELECT i, 'a' || lpad(CAST(i AS VARCHAR), 7, '0') AS article_id,
       's' || lpad(CAST(i % $stories AS VARCHAR), 6, '0') AS story_id,
       i % $outlets AS o,
       date_trunc('day', now()) - to_seconds($span_s)
           + to_seconds(CAST(i AS BIGINT) * $span_s // $n)
           AS published_at
FROM range($n) AS t(i);

INSERT INTO feeds (feed_url, name, outlet, local, enabled, added_at, last_fetched_at,
                   last_status, last_reason, last_ok_at, error_count, next_due_at,
                   failure_weight)
SELECT 'http://feeds.example/' || o, 'Feed ' || o, 'Outlet ' || o, false, true, now(), now(),
       CASE WHEN o % 10 = 0 THEN 'temp' ELSE 'ok' END,
       CASE WHEN o % 10 = 0 THEN 'http_503' ELSE 'parsed' END, now(),
       CASE WHEN o % 10 = 0 THEN 3 ELSE 0 END, now() + INTERVAL 15 MINUTE,
       CASE WHEN o % 10 = 0 THEN 3 ELSE 0 END
FROM range($outlets) AS t(o);

INSERT INTO articles (article_id, url, canonical_url, title, text, published_at, language,
                      outlet, feed_url, content_hash, extraction_method, first_seen_at, run_id,
                      story_id, version)
SELECT article_id, 'http://news' || o || '.example/' || article_id,
       'http://news' || o || '.example/' || article_id,
       'Story ' || story_id || ': ' || s[1 + i % 8] || s[1 + i // 8 % 8]
           || CASE WHEN i % 20 = 0 THEN ' zeppelin sighted' ELSE ' report' END,
       array_to_string(list_transform(range(240), lambda x:
            s[CAST(1 + hash(i * 1000 + x) % 8 AS BIGINT)]
            || s[CAST(1 + hash(i * 7 + x) % 8 AS BIGINT)]
            || CASE WHEN x % 12 = 11 THEN '.' ELSE '' END), ' ')
           || CASE WHEN i % 20 = 0 THEN ' A zeppelin flew over the harbour.' ELSE '' END,
       published_at, 'en', 'Outlet ' || o, 'http://feeds.example/' || o, md5(article_id),
       'trafilatura', published_at + INTERVAL 5 MINUTE, 'generated', story_id, 1
FROM nums, syllables;

INSERT INTO entries (entry_url, feed_url, title, published_at, first_seen_at, state,
                     article_id)
SELECT url, feed_url, title, published_at, first_seen_at, 'done', article_id FROM articles;

INSERT INTO sightings
SELECT article_id, url, outlet, feed_url, first_seen_at FROM articles;

INSERT INTO stories
SELECT story_id, arg_min(title, published_at), arg_min(article_id, published_at),
       arg_min(outlet, published_at), min(first_seen_at), max(first_seen_at), count(*),
       count(DISTINCT outlet)
FROM articles GROUP BY story_id;

INSERT INTO topic_matches (topic, article_id, matched_at, score, terms, run_id, snippet)
SELECT $topic, article_id, first_seen_at, 3.0, ['title:zeppelin'], 'generated',
       'A **zeppelin** flew over the harbour.'
FROM articles WHERE title LIKE '%zeppelin%';

INSERT INTO alerts (topic, article_id, kind, created_at, run_id, story_id, outlets)
SELECT $topic, arg_min(m.article_id, m.matched_at), 'first', min(m.matched_at), 'generated',
       a.story_id, 1
FROM topic_matches AS m JOIN articles AS a USING (article_id)
GROUP BY a.story_id;

INSERT INTO deliveries (topic, article_id, kind, channel, status, attempts, delivered_at)
SELECT topic, article_id, kind, channel, 'sent', 1, created_at
FROM alerts, (VALUES ('terminal'), ('log')) AS c(channel);

INSERT INTO runs (run_id, started_at, finished_at, status, feeds_polled, entries_new,
                  pages_fetched, articles_new, matches_new, alerts_new, stage_seconds)
SELECT 'run' || r, now() - to_minutes(15 * r), now() - to_minutes(15 * r) + INTERVAL 20 SECOND,
       'ok', $outlets, 40, 40, 40, 2, 1,
       json_object('fetch-feeds', 1.5 + r % 3, 'fetch-pages', 6.0, 'extract', 2.5,
                   'load', 0.8, 'stories', 1.2, 'match-topics', 0.4)
FROM range(30) AS t(r);
"""


def generate(path: Path, articles: int, stories: int, days: int = 300) -> None:
    """A warehouse at `path` (created by the migrations) with that many articles and stories."""
    db.migrate(path)
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")  # days start at midnight UTC, as on the pages
        params = {"n": articles, "stories": stories, "outlets": OUTLETS,
                  "span_s": days * 86400, "topic": TOPIC}
        for statement in filter(str.strip, BUILD.split(";\n")):
            con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})
        con.execute("CHECKPOINT")
