"""The DuckLake backend: the same pipeline, migrations and SQL on a lake whose catalog is a
real PostgreSQL server (Debian's package, started by the test) or a DuckDB file; the guarantees
constraints gave a DuckDB file (one article per canonical URL, one alert per topic and story)
kept by how we write; moving a warehouse between backends."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest
from newswatch.config import load_config
from tasks.shards import shard_of
from tests import postgres
from tests.conftest import FIXTURE, ROOT, fixture_feeds, write_config
from tests.servers import static_site
from tests.simulator import NewsWeb, news_web
from warehouse import db
from warehouse.lake import Lake, lake_ddl

pytestmark = [pytest.mark.slow]

# Rows compared between backends, by their keys (ids are derived from URLs and texts, so the
# same input gives the same ids whichever backend stored it). A story is named by the article
# that arrived first, and its alert by the first relevant copy stored: with shards side by
# side that order varies, so stories are compared by their first report (the earliest
# published member, whatever the order of arrival), and an alert by its topic, kind and story
# (how many outlets the story had when it alerted depends on the order too).
KEYS = {
    "articles": "SELECT a.article_id, a.canonical_url, a.title, a.outlet, s.first_article_id "
                "FROM articles AS a JOIN stories AS s USING (story_id)",
    "sightings": "SELECT article_id, url FROM sightings",
    "stories": "SELECT first_article_id, articles, outlets FROM stories",
    "topic_matches": "SELECT topic, article_id, relevant FROM topic_matches",
    "alerts": "SELECT a.topic, a.kind, s.first_article_id "
              "FROM alerts AS a JOIN stories AS s USING (story_id)",
    "entries": "SELECT entry_url, state, article_id FROM entries",
    "feeds": "SELECT feed_url, enabled FROM feeds",
}


@pytest.fixture(scope="module")
def pg() -> Iterator[str]:
    if why := postgres.missing():
        pytest.skip(why)
    with postgres.postgres_server("postgres_lakes") as dsn:
        yield dsn


_n = iter(range(1000))


@pytest.fixture
def lake_catalog(pg: str) -> str:
    """A fresh catalog database on the module's server, per test."""
    import psycopg

    name = f"lake{next(_n)}_{os.getpid()}"
    with psycopg.connect(pg, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return pg.replace("dbname=postgres_lakes", f"dbname={name}")


def rows(target: db.Target) -> dict[str, list[tuple]]:
    with db.connect(target, read_only=True) as con:
        return {t: sorted(con.execute(q).fetchall()) for t, q in KEYS.items()}


def lake_settings(catalog: str, data: Path) -> str:
    return f'backend = "ducklake"\ncatalog = "{catalog}"\ndata_path = "{data}"\n'


def test_migrations_become_lake_ddl() -> None:
    ddl = """CREATE TABLE IF NOT EXISTS t (
    k VARCHAR PRIMARY KEY,
    u VARCHAR NOT NULL UNIQUE,
    s VARCHAR NOT NULL CHECK (s IN ('a', 'b')),
    n INTEGER NOT NULL DEFAULT 0,
    f BOOLEAN DEFAULT false,
    PRIMARY KEY (k, u)
);
INSERT INTO t SELECT * FROM old ON CONFLICT DO NOTHING;"""
    assert lake_ddl(ddl) == """CREATE TABLE IF NOT EXISTS t (
    k VARCHAR,
    u VARCHAR NOT NULL,
    s VARCHAR NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    f BOOLEAN
);
INSERT INTO t SELECT * FROM old;"""


def test_every_migration_applies_to_a_fresh_lake_and_again(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "meta.ducklake"), str(tmp_path / "data") + "/")
    assert db.migrate(lake)[-1] == "010_match_relevance"
    assert db.migrate(lake) == []
    with db.connect(lake, read_only=True) as con:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'lake'").fetchall()}
    with db.connect(tmp_path / "w.duckdb") as con:
        pass
    db.migrate(tmp_path / "w.duckdb")
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        file_tables = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables()").fetchall()}
    assert tables == file_tables


def _ingest_fixture(cfg: Path) -> tuple[int, ...]:
    s = asyncio.run(ingest(str(cfg), all_feeds=True))
    return (s.entries_new, s.articles_new, s.matches_new, s.alerts_new)


@pytest.mark.usefixtures("prefect_harness")
def test_the_fixture_into_a_postgres_lake_equals_a_duckdb_file(
        lake_catalog: str, tmp_path: Path) -> None:
    with static_site(FIXTURE) as site:
        (tmp_path / "file").mkdir()
        (tmp_path / "lake").mkdir()
        file_cfg = write_config(tmp_path / "file", fixture_feeds(site.url))
        lake_cfg = write_config(tmp_path / "lake", fixture_feeds(site.url),
                                warehouse=lake_settings(lake_catalog, tmp_path / "parquet"))
        assert _ingest_fixture(file_cfg) == (7, 7, 3, 1)
        assert _ingest_fixture(lake_cfg) == (7, 7, 3, 1)
        assert _ingest_fixture(lake_cfg) == (0, 0, 0, 0)  # nothing twice
    lake = load_config(lake_cfg).warehouse_path
    assert isinstance(lake, Lake) and lake.on_postgres
    assert rows(lake) == rows(tmp_path / "file" / "nw.duckdb")
    assert list((tmp_path / "parquet").rglob("*.parquet"))  # the data is Parquet files


@pytest.mark.usefixtures("prefect_harness")
def test_migrate_warehouse_round_trips_the_fixture(lake_catalog: str, tmp_path: Path) -> None:
    with static_site(FIXTURE) as site:
        cfg = write_config(tmp_path, fixture_feeds(site.url))
        _ingest_fixture(cfg)
    before = rows(tmp_path / "nw.duckdb")
    nw = [sys.executable, "-m", "newswatch.cli", "--config", str(cfg)]
    out = subprocess.run([*nw, "migrate-warehouse", "--to", "ducklake", "--catalog",
                          lake_catalog, "--data-path", str(tmp_path / "parquet")],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lake = Lake(lake_catalog, str(tmp_path / "parquet") + "/")
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["table", "rows", "copied"]
    assert [line.split() for line in lines[2:19]] == [
        [t, str(n), str(n)] for t, n in
        [("alerts", 1), ("article_terms", 280), ("article_versions", 0), ("articles", 7),
         ("deliveries", 2), ("digests", 0), ("entries", 7), ("extract_log", 7), ("feeds", 3),
         ("fetch_log", 10), ("lsh_buckets", 119), ("runs", 1), ("sightings", 7),
         ("stories", 5), ("term_df", 401), ("topic_matches", 3), ("unfinished_articles", 0)]]
    assert lines[19:] == [
        "(17 rows)",
        f"copied 17 tables, 853 rows from {tmp_path / 'nw.duckdb'} to {lake}; every count "
        f"verified.",
        "To use it, set in [warehouse]:", 'backend = "ducklake"', f'catalog = "{lake_catalog}"',
        f'data_path = "{tmp_path / "parquet"}"']
    lake = Lake(lake_catalog, str(tmp_path / "parquet") + "/")
    assert rows(lake) == before
    # Again into the same lake: refused, nothing doubled.
    again = subprocess.run([*nw, "migrate-warehouse", "--to", "ducklake", "--catalog",
                            lake_catalog, "--data-path", str(tmp_path / "parquet")],
                           capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert again.returncode == 1
    assert again.stderr == (f"error: {lake} already holds 7 article(s); copy into a new, empty "
                            f"warehouse (a new catalog database and data path).\n")
    # And back into a new DuckDB file, from a config that names the lake.
    lake_cfg = write_config(tmp_path, [], warehouse=lake_settings(lake_catalog,
                                                                  tmp_path / "parquet"))
    back = subprocess.run([sys.executable, "-m", "newswatch.cli", "--config", str(lake_cfg),
                           "migrate-warehouse", "--to", "duckdb", "--path",
                           str(tmp_path / "back.duckdb")],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert back.returncode == 0, back.stderr
    assert rows(tmp_path / "back.duckdb") == before


def test_a_sandboxed_reader_reads_the_lake_and_nothing_else(lake_catalog: str,
                                                            tmp_path: Path) -> None:
    lake = Lake(lake_catalog, str(tmp_path / "parquet") + "/")
    db.migrate(lake)
    (tmp_path / "secret.txt").write_text("s3cret")
    cols, got = db.read_query(lake, "SELECT count(*) AS n FROM articles", wait_s=5)
    assert (cols, got) == (["n"], [(0,)])
    with pytest.raises(duckdb.PermissionException):
        db.read_query(lake, f"SELECT * FROM read_text('{tmp_path / 'secret.txt'}')", wait_s=5)


def _reader(lake: Lake, stop: threading.Event, seen: list[int], errors: list[str]) -> None:
    while not stop.is_set():
        try:
            seen.append(db.read_query(lake, "SELECT count(*) FROM articles", wait_s=0)[1][0][0])
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
        time.sleep(0.05)


ELECTIONS = """
[[topic]]
name = "elections"
query = "election OR vote"
"""
SEED_COPIES = [  # the seed story as three outlets carried it (the fixture's pages)
    "www.dailymeridian.example/world/2025/02/09/trump-says-he-has-spoken-to-putin-about-"
    "ending-ukraine-war.html",
    "www.capitalwire.example/world/2025/02/09/trump-putin-call-ukraine-war-kremlin.html",
    "northernledger.example/world/2025/02/09/trump-putin-phone-call-new-york-post.html",
]


def sharded_world(web: NewsWeb) -> list[dict]:
    """Eight hosts, a feed of ten stories each, and the seed story's copies on hosts of both
    shards, so its copies arrive in both shards' runs at once."""
    feeds = []
    for i, host in enumerate(web.hosts):
        feeds.append({"name": f"wire{i}", "url": web.add_feed(host, f"wire{i}", 10)})
    by_shard = {k: [h for h in web.hosts if shard_of(f"http://{h}/", 2) == k] for k in (0, 1)}
    assert by_shard[0] and by_shard[1], by_shard
    hosts = [by_shard[0][0], by_shard[1][0], by_shard[1][-1]]
    for n, (host, page) in enumerate(zip(hosts, SEED_COPIES, strict=True)):
        path = f"/seed/{n}.html"
        url = web.put(host, path, (FIXTURE / "sites" / page).read_bytes())
        web.add_items(host, f"wire{web.hosts.index(host)}", [(f"seed {n}", url)])
    return feeds


def _run_cli(cfg: Path, *args: str) -> subprocess.Popen:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    return subprocess.Popen([sys.executable, "-m", "newswatch.cli", "--config", str(cfg), "run",
                             "--all-feeds", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.usefixtures("prefect_harness")
def test_two_shards_at_once_into_a_lake_equal_one_process_into_a_file(
        lake_catalog: str, tmp_path: Path) -> None:
    topics = (ROOT / "seeds" / "topics.toml").read_text(encoding="utf-8") + ELECTIONS
    with news_web(hosts=8) as web:
        feeds = sharded_world(web)
        (tmp_path / "file").mkdir()
        (tmp_path / "lake").mkdir()
        file_cfg = write_config(tmp_path / "file", feeds, topics)
        lake_cfg = write_config(tmp_path / "lake", feeds, topics,
                                warehouse=lake_settings(lake_catalog, tmp_path / "parquet"))
        one = _run_cli(file_cfg)
        assert one.wait(300) == 0, one.stdout.read() if one.stdout else ""

        lake = load_config(lake_cfg).warehouse_path
        db.migrate(lake)  # the reader starts before the runs
        stop, seen, errors = threading.Event(), [], []
        reader = threading.Thread(target=_reader, args=(lake, stop, seen, errors))
        reader.start()
        try:
            shards = [_run_cli(lake_cfg, "--shard", f"{k}/2") for k in (0, 1)]
            outs = [p.communicate(timeout=300)[0] for p in shards]
        finally:
            stop.set()
            reader.join(30)
    assert [p.returncode for p in shards] == [0, 0], outs
    assert all(", shard " in out.splitlines()[0] for out in outs)
    # Both shards stored articles, each its own hosts' feeds.
    with db.connect(lake, read_only=True) as con:
        per_run = con.execute("SELECT count(*) FROM runs WHERE articles_new > 0").fetchone()[0]
        feeds_per_run = con.execute(
            "SELECT count(DISTINCT url) FROM fetch_log WHERE kind = 'feed' "
            "GROUP BY run_id ORDER BY 1").fetchall()
    assert per_run == 2
    assert sum(n for (n,) in feeds_per_run) == 8
    # The same rows as one process into a DuckDB file, compared on keys.
    lake_rows, file_rows = rows(lake), rows(tmp_path / "file" / "nw.duckdb")
    assert {t: len(r) for t, r in lake_rows.items()} == {t: len(r) for t, r in file_rows.items()}
    assert lake_rows == file_rows
    assert len(lake_rows["articles"]) == 83
    # The seed story: three copies, two shards, one story, one alert.
    with db.connect(lake, read_only=True) as con:
        assert con.execute(
            "SELECT count(DISTINCT a.story_id), count(*) FROM articles AS a "
            "WHERE a.url LIKE '%/seed/%'").fetchall() == [(1, 3)]
        assert con.execute(
            "SELECT count(*) FROM alerts WHERE topic = 'trump-putin-contacts'").fetchall() == [
            (1,)]
        assert con.execute(
            "SELECT count(*), count(DISTINCT (topic, story_id)) FROM alerts").fetchone()[0] \
            == con.execute("SELECT count(DISTINCT (topic, story_id)) FROM alerts").fetchone()[0]
    logged = [line for line in (tmp_path / "lake" / "alerts.jsonl").read_text().splitlines()
              if "trump-putin-contacts" in line]
    assert len(logged) == 1
    # The reader was never refused, and never saw the count go down.
    assert errors == []
    assert len(seen) > 10 and seen == sorted(seen) and seen[-1] == 83


@pytest.mark.usefixtures("prefect_harness")
def test_web_pages_read_a_lake(lake_catalog: str, tmp_path: Path) -> None:
    """newswatch web on a lake: each page attaches it read-only, sandboxed, per request."""
    from starlette.testclient import TestClient

    from newswatch.web import create_app

    with static_site(FIXTURE) as site:
        cfg = write_config(tmp_path, fixture_feeds(site.url),
                           warehouse=lake_settings(lake_catalog, tmp_path / "parquet"))
        _ingest_fixture(cfg)
    with TestClient(create_app(load_config(cfg))) as client:
        topic = client.get("/topics/trump-putin-contacts")
        feeds = client.get("/feeds")
        search = client.get("/search?q=putin")
    assert [topic.status_code, feeds.status_code, search.status_code] == [200, 200, 200]
    for outlet in ("The Daily Meridian", "Capital Wire", "Northern Ledger"):
        assert outlet in topic.text
    assert "Trump says he has spoken to Putin about ending Ukraine war" in search.text
