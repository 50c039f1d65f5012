"""The warehouse: migrations, locking, bulk writes, and docs that stay true."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from warehouse import db

README = Path(db.__file__).parent / "README.md"


def test_migrations_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    assert db.migrate(path) == ["001_init", "002_match_snippets", "003_stories",
                                "004_alerts_per_story", "005_alert_kinds_digests",
                                "006_fetch_health_archive", "007_unfinished_articles",
                                "009_feed_content_canonical",
                                "010_match_relevance"]
    assert db.migrate(path) == []
    with duckdb.connect(str(path)) as con:
        for file in sorted(Path(db.MIGRATIONS).glob("*.sql")):
            con.execute(file.read_text())  # every migration can run again on an existing file
        assert con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall() == [
            ("001_init",), ("002_match_snippets",), ("003_stories",), ("004_alerts_per_story",),
            ("005_alert_kinds_digests",), ("006_fetch_health_archive",),
            ("007_unfinished_articles",), ("009_feed_content_canonical",),
            ("010_match_relevance",)]


def test_an_old_warehouse_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE schema_migrations (version VARCHAR PRIMARY KEY, "
                    "applied_at TIMESTAMPTZ NOT NULL)")
        con.execute((Path(db.MIGRATIONS) / "001_init.sql").read_text())
        con.execute("INSERT INTO schema_migrations VALUES ('001_init', now())")
        con.execute("INSERT INTO topic_matches VALUES ('t', 'a', now(), 1, ['x'], 'r')")
        for aid, url, dup in (("a", "http://x/1", None), ("b", "http://y/2", "a")):
            con.execute("INSERT INTO articles VALUES (?, ?, ?, 'T', 'text', NULL, NULL, 'en', "
                        "?, 'f', 'h', 'trafilatura', ?, now(), 'r')",
                        [aid, url, url, f"outlet {aid}", dup])
        con.execute("INSERT INTO entries (entry_url, feed_url, first_seen_at, state, article_id)"
                    " VALUES ('http://y/2', 'f', now(), 'done', 'b')")
        con.execute("INSERT INTO alerts VALUES ('t', 'a', now(), 'r')")
        con.execute("INSERT INTO deliveries (topic, article_id, channel, status, attempts) "
                    "VALUES ('t', 'a', 'log', 'sent', 1)")
    assert db.migrate(path) == ["002_match_snippets", "003_stories", "004_alerts_per_story",
                                "005_alert_kinds_digests", "006_fetch_health_archive",
                                "007_unfinished_articles", "009_feed_content_canonical",
                                "010_match_relevance"]
    with duckdb.connect(str(path)) as con:
        assert con.execute("SELECT topic, snippet FROM topic_matches").fetchall() == [("t", None)]
        # The exact duplicate stored before 003 became a sighting of its original.
        assert con.execute("SELECT article_id, story_id, version, extraction_method "
                           "FROM articles").fetchall() == [("a", "a", 1, "trafilatura")]
        assert con.execute("SELECT article_id, url, outlet FROM sightings ORDER BY url"
                           ).fetchall() == [("a", "http://x/1", "outlet a"),
                                            ("a", "http://y/2", "outlet b")]
        assert con.execute("SELECT article_id FROM entries").fetchall() == [("a",)]
        assert con.execute("SELECT story_id, articles, outlets FROM stories").fetchall() == [
            ("a", 1, 1)]
        # Alerts and deliveries stored before 005 are first alerts, with the story's outlets.
        assert con.execute("SELECT topic, article_id, kind, story_id, outlets FROM alerts"
                           ).fetchall() == [("t", "a", "first", "a", 1)]
        assert con.execute("SELECT kind, channel, status, attempts FROM deliveries"
                           ).fetchall() == [("first", "log", "sent", 1)]


def _documented() -> dict[str, dict[str, str]]:
    docs: dict[str, dict[str, str]] = {}
    table = None
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            table = None
        elif m := re.match(r"### ([\w.]+)$", line):
            table = m.group(1)
            docs[table] = {}
        elif (table and (m := re.match(r"\| (\w+) \| ([\w\[\]]+) \| .+ \|$", line))
              and m.group(1) != "column"):
            docs[table][m.group(1)] = m.group(2)
    return docs


def test_readme_documents_every_table_and_column(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    db.migrate(path)
    db.sync_topic_views(path, ["trump-putin-contacts"])  # the default topic's view
    with duckdb.connect(str(path)) as con:
        actual: dict[str, dict[str, str]] = {}
        for schema, table, column, dtype in con.execute(
            "SELECT table_schema, table_name, column_name, data_type "
            "FROM information_schema.columns ORDER BY table_name, ordinal_position"
        ).fetchall():
            name = table if schema == "main" else f"{schema}.{table}"
            actual.setdefault(name, {})[column] = dtype.replace("TIMESTAMP WITH TIME ZONE",
                                                                "TIMESTAMPTZ")
    assert _documented() == actual


def test_readme_example_queries_run(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    db.migrate(path)
    db.sync_topic_views(path, ["trump-putin-contacts"])
    queries = re.findall(r"```sql\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(queries) == 9
    with duckdb.connect(str(path), read_only=True) as con:
        for q in queries:
            con.execute(q).fetchall()


def test_statuses_are_a_closed_set(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    db.migrate(path)
    with duckdb.connect(str(path)) as con, pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO fetch_log VALUES ('r', now(), 'feed', 'u', NULL, 'weird', "
                    "'x', NULL, 0, 0, 1, [])")


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    db.migrate(path)
    now = datetime.now(UTC)
    with pytest.raises(RuntimeError), db.transaction(path) as con:
        con.execute("INSERT INTO runs (run_id, started_at, status) VALUES ('a', ?, 'ok')", [now])
        raise RuntimeError("stage crashed")
    with duckdb.connect(str(path)) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)


def test_same_key_twice_in_one_batch_keeps_one_entry(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    db.migrate(path)
    now = datetime.now(UTC)
    e = {"entry_url": "http://a/1", "feed_url": "f", "guid": None, "title": "t",
         "summary": None, "published_at": None, "first_seen_at": now}
    assert db.record_entries(path, [], [e, {**e, "title": "t2"}]) == {"http://a/1"}
    assert db.pending_keys(path, 3) == [("http://a/1", "f")]


def test_a_runs_chunks_read_their_pending_entries_a_few_chunks_at_a_time(
        tmp_path: Path) -> None:
    """A run holds its pending pages' URLs and reads their entries as it takes each chunk,
    `per_read` chunks' worth at once: in the chunks' order, and an entry no longer pending
    when its window is read is left out."""
    from newswatch.config import load_config
    from tasks.feeds import pending_chunks, pending_pages
    from tests.conftest import write_config

    cfg = load_config(write_config(tmp_path, [], ""))
    db.migrate(cfg.warehouse_path)
    now = datetime.now(UTC)
    db.record_entries(cfg.warehouse_path, [], [
        {"entry_url": f"http://h{i % 2}/{i}", "feed_url": "f", "guid": None, "title": f"t{i}",
         "summary": None, "published_at": None, "first_seen_at": now} for i in range(5)])
    urls = pending_pages(cfg)
    assert urls == ("http://h0/0", "http://h0/2", "http://h0/4", "http://h1/1", "http://h1/3")
    chunks = [urls[0:2], urls[2:3], urls[3:5]]
    got = pending_chunks(cfg, chunks, per_read=2)
    assert [e.title for e in next(got)] == ["t0", "t2"]
    with db.connect(cfg.warehouse_path) as con:  # between windows: h1/3's page is fetched
        con.execute("UPDATE entries SET state = 'done' WHERE entry_url = 'http://h1/3'")
    assert [[e.title for e in c] for c in got] == [["t4"], ["t1"]]


def test_appends_to_a_keyed_table_fill_row_groups_of_4096_rows(tmp_path: Path) -> None:
    """DuckDB appends to a keyed table in its last row group and rewrites that row group whole
    at each checkpoint (each writer's close). At its default size (122,880 rows) every chunk's
    load rewrote all the day's texts: 20,000 rows loaded in five writes made one row group."""
    path = tmp_path / "w.duckdb"
    with db.connect(path) as con:
        con.execute("CREATE TABLE t (k VARCHAR PRIMARY KEY, v VARCHAR)")
    for b in range(5):
        with db.connect(path) as con:
            con.execute(f"INSERT INTO t SELECT 'k' || (i + {b * 4000}), repeat('x', 100) "
                        "FROM range(4000) r(i)")
    with db.connect(path) as con:
        groups = con.execute("SELECT row_group_id, sum(count) FROM pragma_storage_info('t') "
                             "WHERE column_path = '[0]' GROUP BY ALL ORDER BY ALL").fetchall()
        named = con.execute("SELECT current_database()").fetchone()
    assert groups == [(0, 4096), (1, 4096), (2, 4096), (3, 4096), (4, 3616)]
    assert named == ("w",)  # as `duckdb w.duckdb` names it


@pytest.mark.parametrize("name", ["memory", "it's \"odd\""])
def test_a_warehouse_may_have_any_file_name(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.duckdb"
    db.migrate(path)
    with db.connect(path) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (0,)


def test_writer_lock_is_exclusive(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    code = ("import sys, time; from pathlib import Path; from warehouse import db\n"
            "with db.writer_lock(Path(sys.argv[1])):\n    print('locked', flush=True)\n"
            "    time.sleep(30)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                              text=True, cwd=Path(db.__file__).parent.parent)
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(db.RunInProgress) as e, db.writer_lock(path):
            pass
        assert str(e.value) == (
            f"another ingest run is writing to {path} (lock {path}.run-lock); this run did "
            f"nothing. Wait for it to finish.")
    finally:
        holder.kill()
        holder.wait()
    with db.writer_lock(path):  # released when the holder died
        pass


def test_connect_waits_for_a_short_holder(tmp_path: Path) -> None:
    """A reader holding the file for a moment delays the writer; it does not fail it."""
    path = tmp_path / "w.duckdb"
    db.migrate(path)
    code = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True);"
            "print('held', flush=True); time.sleep(1.0); c.close()")
    holder = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        started = datetime.now(UTC)
        with db.transaction(path, wait_s=10) as con:
            con.execute("INSERT INTO runs (run_id, started_at, status) VALUES ('a', ?, 'ok')",
                        [started])
        waited = (datetime.now(UTC) - started).total_seconds()
    finally:
        holder.wait()
    assert 0.3 < waited < 5


def test_the_duckdb_cli_the_readme_names_opens_the_warehouse(tmp_path: Path) -> None:
    """README: `duckdb -readonly data/newswatch.duckdb`, the CLI from `pip install duckdb-cli`
    (pinned in the dev extras at the library's version). A DuckDB 2.0 file would be refused
    ("database file with version number 69, but we can only read versions between 64 and 68")."""
    cli = Path(sys.executable).with_name("duckdb")
    if not cli.exists():
        pytest.skip(f"no DuckDB CLI at {cli}: install the dev extras (duckdb-cli)")
    path = tmp_path / "newswatch.duckdb"
    db.migrate(path)
    with db.transaction(path) as con:
        con.execute("INSERT INTO runs (run_id, started_at, status) "
                    "VALUES ('r1', '2025-02-09 12:00:00+00', 'ok')")
    out = subprocess.run([str(cli), "-readonly", "-csv", str(path), "-c",
                          "SELECT run_id, status FROM runs; SELECT count(*) AS n "
                          "FROM schema_migrations"],
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout == "run_id,status\nr1,ok\nn\n9\n"


def test_a_writer_spills_beside_the_warehouse_not_where_it_was_started(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer's connection is in-memory with the file attached, whose default spill folder is
    ./.tmp of the working directory; a sort past its memory spills to <warehouse>.tmp instead,
    and closing the connection removes it."""
    started = tmp_path / "started-here"
    started.mkdir()
    monkeypatch.chdir(started)
    path = tmp_path / "w.duckdb"
    with db.connect(path) as con:
        con.execute("SET memory_limit = '64MB'")
        con.execute("CREATE TEMP TABLE t AS SELECT md5(i::VARCHAR) AS s FROM range(3000000) r(i)")
        assert con.execute("SELECT count(*) FROM (SELECT s FROM t ORDER BY s OFFSET 5)"
                           ).fetchone() == (2999995,)
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "started-here", "w.duckdb", "w.duckdb.tmp"]
    assert list(started.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["started-here", "w.duckdb"]
