"""How the web pages read the warehouse: a read that keeps a waiting writer out is interrupted
and run again after it; reads are kept until the file changes; a kept search is brought up to
date with only the articles that arrived or changed. Real DuckDB files, real processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from newswatch import search as search_mod
from newswatch.web import Reads
from tests.conftest import ROOT
from tests.generated import generate
from warehouse import db

LONG_READER = """
import sys, time
from pathlib import Path
from warehouse import db
path = Path(sys.argv[1])
attempts = []

def work(con):
    attempts.append(time.monotonic())
    if len(attempts) == 1:
        print("reading", flush=True)
        # Minutes of work: only the watchdog ends it.
        return con.execute("SELECT count(*) FROM range(100000000000)").fetchall()
    return con.execute("SELECT count(*) FROM schema_migrations").fetchall()

rows = db._web_read(path, 30, work)
print(f"attempts {len(attempts)} rows {rows[0][0]} interrupts {db.watchdog.interrupts}",
      flush=True)
"""


def test_a_long_page_read_lets_a_waiting_writer_in(tmp_path: Path) -> None:
    path = tmp_path / "nw.duckdb"
    applied = len(db.migrate(path))
    reader = subprocess.Popen([sys.executable, "-c", LONG_READER, str(path)],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert reader.stdout is not None and reader.stdout.readline() == "reading\n"
        time.sleep(0.5)  # the read has held the file past WEB_HOLD_S: the writer finds it held
        started = time.monotonic()
        with db.transaction(path, wait_s=10) as con:
            waited = time.monotonic() - started
            con.execute("INSERT INTO schema_migrations VALUES ('test-write', now())")
        out, _ = reader.communicate(timeout=30)
    finally:
        reader.kill()
    assert waited < 1.0, waited
    # Cut short once, then read again after the write, which it sees.
    assert out == f"attempts 2 rows {applied + 1} interrupts 1\n"


def test_a_read_nobody_waits_for_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "nw.duckdb"
    db.migrate(path)
    before = db.watchdog.interrupts

    def slow(con: Any) -> list[tuple]:
        time.sleep(db.WEB_HOLD_S + 0.3)  # holds the file past WEB_HOLD_S; no writer waits
        return con.execute("SELECT count(*) FROM range(5)").fetchall()

    assert db._web_read(path, 5, slow) == [(5,)] and db.watchdog.interrupts == before


def test_reads_are_kept_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "nw.duckdb"
    db.migrate(path)
    time.sleep(0.05)  # past the mtime tick that web_state does not trust
    calls: list[tuple] = []

    def runs(p: Path, wait_s: float, limit: int) -> list[dict[str, Any]]:
        calls.append((limit,))
        return db._web_read(p, wait_s, lambda con: db._fetch(con, "web_runs",
                                                              {"limit": limit}))

    reads = Reads(path, 5)
    assert reads(runs, 10) == [] and reads(runs, 10) == [] and calls == [(10,)]
    assert reads(runs, 5) == [] and calls == [(10,), (5,)]  # other arguments, another read
    with db.transaction(path) as con:
        con.execute("INSERT INTO runs (run_id, started_at, status) VALUES ('r1', now(), 'ok')")
    time.sleep(0.05)
    assert [r["run_id"] for r in reads(runs, 10)] == ["r1"] and len(calls) == 3
    assert [r["run_id"] for r in reads(runs, 10)] == ["r1"] and len(calls) == 3


def test_a_lake_keeps_no_reads(tmp_path: Path) -> None:
    from warehouse.lake import Lake

    assert db.web_state(Lake(str(tmp_path / "meta.ducklake"), str(tmp_path / "data"))) is None


@pytest.mark.parametrize("query", ["zeppelin*", "zeppelin AND harbour", "kalo NOT zeppelin"])
def test_a_kept_search_brought_up_to_date_finds_what_a_new_one_finds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: str) -> None:
    path = tmp_path / "nw.duckdb"
    generate(path, 400, 20)
    scans: list[bool] = []
    plain = db.web_search_candidates

    def candidates(*args: Any, **kwargs: Any) -> list[str]:
        scans.append(kwargs.get("changed_since") is not None)
        return plain(*args, **kwargs)

    monkeypatch.setattr(db, "web_search_candidates", candidates)
    first = search_mod.search(path, 5, query)
    with db.transaction(path) as con:
        # New articles, one about zeppelins; an old zeppelin article rewritten without them.
        con.execute("""
            INSERT INTO articles (article_id, url, canonical_url, title, text, language,
                                  outlet, feed_url, content_hash, extraction_method,
                                  first_seen_at, run_id, story_id, version)
            SELECT 'new' || i, 'http://n.example/' || i, 'http://n.example/' || i,
                   'Fresh ' || i, CASE WHEN i = 0 THEN 'A zeppelin over the harbour, kalo.'
                                       ELSE 'Nothing of note, kalo.' END,
                   'en', 'Outlet 1', 'http://feeds.example/1', md5('new' || i), 'trafilatura',
                   now(), 'test', 's000001', 1
            FROM range(3) AS t(i)""")
        con.execute("UPDATE articles SET title = 'Rewritten', text = 'Rewritten: kalo only.', "
                    "updated_at = now() WHERE article_id = 'a0000020'")
    time.sleep(0.05)
    updated = search_mod.search(path, 5, query)
    search_mod._cache.clear()
    anew = search_mod.search(path, 5, query)
    assert scans == [False, True, False]
    assert updated.hits == anew.hits and updated.searched == anew.searched == 403
    assert updated.hits != first.hits
    ids = {h.article_id for h in updated.hits}
    assert ("new0" in ids) == (query != "kalo NOT zeppelin")
    assert ("a0000020" in ids) == (query == "kalo NOT zeppelin")


def test_pages_read_at_once_in_one_process(tmp_path: Path) -> None:
    """DuckDB shares a file's instance within a process and the sandbox locks its settings:
    reads from several request threads at once still each get a working connection."""
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "nw.duckdb"
    db.migrate(path)

    def read(_: int) -> list[tuple]:
        return db._web_read(path, 5, lambda con: (time.sleep(0.02), con.execute(
            "SELECT current_setting('TimeZone'), count(*) FROM range(3)").fetchall())[1])

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(read, range(40))) == [[("UTC", 3)]] * 40


def test_a_label_lookup_waits_for_a_page_read_in_the_same_process(tmp_path: Path) -> None:
    """The label button's lookup opens a plain read connection in the web's process; DuckDB
    refuses one with another configuration while a sandboxed page read holds the file."""
    import threading

    path = tmp_path / "w.duckdb"
    db.migrate(path)
    got: list[object] = []
    with db.web_reader(path, 5.0) as con:
        con.execute("SELECT count(*) FROM articles").fetchall()
        t = threading.Thread(target=lambda: got.append(db.article_for_label(path, "a1", 5.0)))
        t.start()
        t.join(0.3)
        assert t.is_alive()  # waiting for the page's read, not failing
    t.join(10)
    assert got == [[]]
