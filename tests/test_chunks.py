"""A run stores its pages chunk by chunk ([ingest] chunk_pages), each chunk seen through
stories, topics and alerts before the next: a run killed between two chunks leaves every stored
chunk whole, and the next run does the rest with no duplicate article, match or alert. Real
loopback servers, a real DuckDB file, a real `newswatch run` process killed with SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest
from newswatch.config import load_config
from tasks.dedup import dedup
from tasks.extract import extract_pages
from tasks.feeds import due_feeds, pending_entries, pending_pages, record_entries, record_feed_state
from tasks.fetch import fetch_feeds, fetch_pages
from tasks.load import load
from tasks.parse import parse_feeds
from tests.conftest import ROOT, fixture_feeds, write_config
from tests.simulator import news_web
from warehouse import db

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

TOPIC = """[[topic]]
name = "elections"
query = "election OR vote"
"""


def q(cfg: Path, sql: str) -> list[tuple]:
    with db.connect(cfg.parent / "nw.duckdb", read_only=True) as con:
        return con.execute(sql).fetchall()


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(d))
    out, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def start_run(cfg: Path) -> subprocess.Popen[str]:
    """A real `newswatch run` process, patient with the gated requests it will wait on."""
    from prefect.settings import PREFECT_API_URL

    cfg.write_text(cfg.read_text().replace("read_timeout_s = 2.0", "read_timeout_s = 60.0")
                   .replace("total_timeout_s = 5.0", "total_timeout_s = 90.0"))
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    return subprocess.Popen(
        [sys.executable, "-m", "newswatch.cli", "--config", str(cfg), "run", "--all-feeds"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_run_killed_between_two_chunks_is_completed_by_the_next(tmp_path: Path) -> None:
    with news_web(hosts=1) as web:
        host = web.hosts[0]
        feed = web.add_feed(host, "wire", 25)  # 25 pages: chunks of 10, 10 and 5
        paths = sorted(p for h, p in web.pages if p.startswith("/wire/story-"))
        for path in paths[10:]:  # a run takes the entries in URL order: chunk 2 on waits
            web.pages[(host, path)].behaviour = "gated"
        cfg = write_config(tmp_path, [{"name": "wire", "url": feed}], TOPIC,
                           extra="[ingest]\nchunk_pages = 10\n")
        proc = start_run(cfg)
        try:
            deadline = time.monotonic() + 120
            done: list[tuple] = []
            while time.monotonic() < deadline and proc.poll() is None:
                # The file exists a moment before the run's migrations have made the tables.
                with contextlib.suppress(duckdb.CatalogException):
                    if (cfg.parent / "nw.duckdb").exists():
                        done = q(cfg, "SELECT count(*) FILTER (state = 'done'), "
                                      "(SELECT count(*) FROM unfinished_articles) FROM entries")
                if done == [(10, 0)] and web.hits(path=paths[10]):
                    break  # chunk 1 is whole, chunk 2 is being fetched
                time.sleep(0.2)
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert done == [(10, 0)]
            tree = descendants(proc.pid)
            assert len(tree) >= 3  # the forkserver and its extraction workers at least
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
            # The extraction workers and their forkserver follow the run out.
            gone_by = time.monotonic() + 15
            while time.monotonic() < gone_by and any(Path(f"/proc/{p}").exists() for p in tree):
                time.sleep(0.2)
            assert [p for p in tree if Path(f"/proc/{p}").exists()] == []
        finally:
            if proc.poll() is None:
                proc.kill()
        # What the killed run stored is whole: 10 articles, each with its story, and their
        # entries done; the other 15 entries are still pending, nothing of them stored.
        assert q(cfg, "SELECT state, count(*) FROM entries GROUP BY ALL ORDER BY 1") == [
            ("done", 10), ("pending", 15)]
        assert q(cfg, "SELECT count(*), count(story_id) FROM articles") == [(10, 10)]
        matched_before = q(cfg, "SELECT count(*) FROM topic_matches")[0][0]
        assert q(cfg, "SELECT count(*) FROM alerts") == [(matched_before,)]

        web.gate.set()
        again = asyncio.run(ingest(str(cfg), all_feeds=True))
    assert (again.pages_fetched, again.articles_new, again.chunks, again.recovered) == (
        15, 15, 2, 0)
    assert q(cfg, "SELECT state, count(*) FROM entries GROUP BY ALL") == [("done", 25)]
    assert q(cfg, "SELECT count(*), count(DISTINCT canonical_url), count(story_id) "
                  "FROM articles") == [(25, 25, 25)]
    assert q(cfg, "SELECT count(*), count(DISTINCT url) FROM sightings") == [(25, 25)]
    # Every article mentioning the topic matched once, and each alerted once (its own story).
    expected = q(cfg, "SELECT count(*) FROM articles WHERE regexp_matches(lower(text), "
                      "'\\belection|\\bvote\\b')")[0][0]
    assert expected > matched_before > 0
    assert q(cfg, "SELECT count(*), count(DISTINCT article_id) FROM topic_matches") == [
        (expected, expected)]
    assert q(cfg, "SELECT count(*), count(DISTINCT (topic, story_id)) FROM alerts") == [
        (expected, expected)]
    assert q(cfg, "SELECT count(*) FROM unfinished_articles") == [(0,)]
    # Each chunk lets its page bodies go once archived; the fetch log keeps their sizes.
    sizes = {web.url(host, path): len(page.body) for (host, path), page in web.pages.items()
             if path.startswith("/wire/story-")}
    assert dict(q(cfg, "SELECT url, bytes FROM fetch_log WHERE kind = 'page' AND status = 'ok'")
                ) == sizes


def test_articles_a_dead_run_loaded_are_finished_by_the_next(site, tmp_path: Path) -> None:
    """A run that died right after a chunk's load (before its stories, matches and alerts)
    left articles unfinished; the next run places, matches and alerts them, once."""
    cfg_path = write_config(tmp_path, fixture_feeds(site.url))
    cfg = load_config(cfg_path)
    with db.writer_lock(cfg.warehouse_path):  # what the dead run did, stage by stage
        from datetime import UTC, datetime

        db.start_run(cfg.warehouse_path, "deadrun00000", datetime.now(UTC))
        polls = parse_feeds(asyncio.run(fetch_feeds(cfg, due_feeds(cfg, datetime.now(UTC)))))
        record_entries(cfg, "deadrun00000", polls)
        record_feed_state(cfg, polls)
        pages = asyncio.run(fetch_pages(cfg, pending_entries(cfg, pending_pages(cfg))))
        extractions = extract_pages(cfg, pages)
        assert len(load(cfg, "deadrun00000", pages, extractions, dedup(cfg, extractions))) == 7
    assert q(cfg_path, "SELECT count(*), count(story_id) FROM articles") == [(7, 0)]
    assert q(cfg_path, "SELECT count(*) FILTER (new) FROM unfinished_articles") == [(7,)]

    nxt = asyncio.run(ingest(str(cfg_path), all_feeds=True))
    assert (nxt.recovered, nxt.pages_fetched, nxt.articles_new, nxt.near_duplicates,
            nxt.stories_new, nxt.matches_new, nxt.alerts_new) == (7, 0, 0, 2, 5, 3, 1)
    assert q(cfg_path, "SELECT count(*), count(story_id) FROM articles") == [(7, 7)]
    assert q(cfg_path, "SELECT count(*) FROM unfinished_articles") == [(0,)]
    # Nothing is done twice: a further run finds nothing to finish, match or alert.
    third = asyncio.run(ingest(str(cfg_path), all_feeds=True))
    assert (third.recovered, third.matches_new, third.alerts_new) == (0, 0, 0)
    with duckdb.connect(str(cfg.warehouse_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM alerts").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM topic_matches").fetchall() == [(3,)]


def test_a_run_killed_between_two_batches_of_feeds_is_completed_by_the_next(
        tmp_path: Path) -> None:
    """Feeds are polled batch by batch ([ingest] chunk_feeds): a run killed while its second
    batch downloads has stored the first batch's entries and log, and no feed's state (that
    waits for every batch). The next run polls every feed again and fetches each page once."""
    with news_web(hosts=1) as web:
        host = web.hosts[0]
        # One host: spread by host, the feeds keep their URL order, f00-f09 | f10-f19 | f20-f24.
        feeds = [{"name": f"f{i:02}", "url": web.add_feed(host, f"f{i:02}", 1,
                                                          "gated" if i >= 10 else "honest")}
                 for i in range(25)]
        cfg = write_config(tmp_path, feeds, TOPIC, extra="[ingest]\nchunk_feeds = 10\n")
        proc = start_run(cfg)
        try:
            deadline = time.monotonic() + 120
            stored: list[tuple] = []
            while time.monotonic() < deadline and proc.poll() is None:
                with contextlib.suppress(duckdb.CatalogException):
                    if (cfg.parent / "nw.duckdb").exists():
                        stored = q(cfg, "SELECT count(*) FROM entries")
                if stored == [(10,)] and web.hits(path="/f10/feed.xml"):
                    break  # batch 1 is stored, batch 2 is being fetched
                time.sleep(0.2)
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert q(cfg, "SELECT state, count(*) FROM entries GROUP BY ALL") == [("pending", 10)]
        assert q(cfg, "SELECT count(*) FROM fetch_log WHERE kind = 'feed'") == [(10,)]
        assert q(cfg, "SELECT count(*), count(last_fetched_at) FROM feeds") == [(25, 0)]

        web.gate.set()
        again = asyncio.run(ingest(str(cfg), all_feeds=True))
    assert (again.feeds_polled, again.entries_new, again.pages_fetched, again.articles_new) == (
        25, 15, 25, 25)
    assert q(cfg, "SELECT last_status, count(*) FROM feeds GROUP BY ALL") == [("ok", 25)]
    assert q(cfg, "SELECT state, count(*) FROM entries GROUP BY ALL") == [("done", 25)]
    pages = [h.path for h in web.log if "/story-" in h.path]
    assert sorted(pages) == sorted(set(pages)) and len(pages) == 25


def test_a_cancelled_run_waits_for_the_store_under_way() -> None:
    """Cancelled (Ctrl-C, Prefect) while a chunk is stored in its thread, the run goes on only
    once that store is over: the run then records its end through a connection of its own, and
    a process can have one open to the warehouse at a time."""
    from flows.ingest import _one_ahead

    done: list[str] = []

    def store(step: int) -> int:
        time.sleep(0.5)
        done.append(f"stored {step}")
        return step

    async def take() -> int:
        return 1

    async def cancel_while_storing() -> None:
        steps = asyncio.ensure_future(_one_ahead(2, take, store))
        await asyncio.sleep(0.1)
        steps.cancel()
        with pytest.raises(asyncio.CancelledError):
            await steps
        done.append("cancelled")

    asyncio.run(cancel_while_storing())
    assert done == ["stored 1", "cancelled"]
