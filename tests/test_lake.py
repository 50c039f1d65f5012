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
from tests import postgres
from tests.conftest import FIXTURE, ROOT, fixture_feeds, write_config
from tests.servers import static_site
from warehouse import db
from warehouse.lake import Lake, lake_ddl

pytestmark = [pytest.mark.slow]

# Rows compared between backends, by their keys (ids are derived from URLs and texts, so the
# same input gives the same ids whichever backend stored it).
KEYS = {
    "articles": "SELECT article_id, canonical_url, title, outlet, story_id FROM articles",
    "sightings": "SELECT article_id, url FROM sightings",
    "stories": "SELECT story_id, first_article_id, articles, outlets FROM stories",
    "topic_matches": "SELECT topic, article_id, relevant FROM topic_matches",
    "alerts": "SELECT topic, article_id, kind, story_id FROM alerts",
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
        except Exception as e:  # noqa: BLE001 (the test reports any refusal)
            errors.append(f"{type(e).__name__}: {e}")
        time.sleep(0.05)
