"""Shards: feeds split over workers by host, with a hash that is the same everywhere;
`--shard i/N` and the flow's `shard` select one shard's feeds and pages; `newswatch serve
--shards N` serves one ingest deployment per shard. Real loopback servers, a real DuckDB file,
Prefect's test harness."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newswatch.config import load_config
from tasks.feeds import due_feeds
from tasks.shards import Shard, ShardError, parse_shard, shard_of
from tests.conftest import ROOT, write_config
from tests.simulator import news_web
from warehouse import db


def test_a_host_is_always_in_the_same_shard() -> None:
    # Fixed values: SHA-1 of the host, so every process and machine agrees.
    assert [shard_of(u, 4) for u in ["https://www.reuters.com/world/",
                                     "http://feeds.bbci.co.uk/news/rss.xml",
                                     "https://rss.nytimes.com/x",
                                     "http://127.0.0.10:8000/f.xml"]] == [3, 0, 0, 0]
    # Port, path and case do not move a host.
    assert shard_of("https://WWW.Reuters.com:443/a", 4) == shard_of("http://www.reuters.com/b", 4)
    spread = Counter(shard_of(f"http://h{i}.example/", 4) for i in range(1000))
    assert spread == {1: 266, 0: 257, 3: 248, 2: 229}


def test_parse_shard() -> None:
    assert parse_shard("1/3") == Shard(1, 3)
    assert str(parse_shard(" 0 / 2 ")) == "0/2"
    assert Shard(1, 2).holds("https://www.reuters.com/world/") is True  # 3 mod 4 → odd → 1


@pytest.mark.parametrize(("text", "message"), [
    ("3/2", "--shard 3/2: the shard index must be below the count (0 to 1), e.g. 1/2."),
    ("1-2", "--shard 1-2: write it as INDEX/COUNT, e.g. 0/2 (the first of two shards)."),
    ("0/0", "--shard 0/0: the count must be at least 1, e.g. 0/2."),
])
def test_a_bad_shard_says_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(ShardError) as e:
        parse_shard(text)
    assert str(e.value) == message


def test_run_refuses_a_bad_shard_before_doing_anything(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [])
    out = subprocess.run([sys.executable, "-m", "newswatch.cli", "--config", str(cfg), "run",
                          "--shard", "2/2"], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (
        2, "", "error: --shard 2/2: the shard index must be below the count (0 to 1), "
               "e.g. 1/2.\n")
    assert not (tmp_path / "nw.duckdb").exists()


def test_the_shards_split_the_feeds_disjointly_and_cover_them() -> None:
    urls = [f"https://news.site{i}.com/feed" for i in range(300)]
    for n in (2, 3, 5):
        parts = [{u for u in urls if Shard(i, n).holds(u)} for i in range(n)]
        assert set().union(*parts) == set(urls)
        assert sum(len(p) for p in parts) == len(urls)
        assert all(len(p) > 300 / n / 2 for p in parts)  # none empty or starved


def test_due_feeds_selects_the_shards_feeds(tmp_path: Path) -> None:
    feeds = [{"name": f"f{h}", "url": f"http://127.0.0.{h}:8000/f/feed.xml"}
             for h in (10, 11, 12, 13)]
    cfg = load_config(write_config(tmp_path, feeds))
    db.migrate(cfg.warehouse_path)
    now = datetime.now(UTC)
    every = [f.url for f in due_feeds(cfg, now)]
    first = [f.url for f in due_feeds(cfg, now, shard=Shard(0, 2))]
    second = [f.url for f in due_feeds(cfg, now, shard=Shard(1, 2))]
    assert first == ["http://127.0.0.10:8000/f/feed.xml", "http://127.0.0.13:8000/f/feed.xml"]
    assert second == ["http://127.0.0.11:8000/f/feed.xml", "http://127.0.0.12:8000/f/feed.xml"]
    assert sorted(first + second) == every
    # Every shard keeps the feeds table whole: none of the others' feeds was disabled.
    with db.connect(cfg.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM feeds WHERE enabled").fetchone() == (4,)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_two_shard_runs_poll_and_fetch_only_their_hosts_and_together_store_all(
        tmp_path: Path) -> None:
    from flows.ingest import ingest

    with news_web(hosts=4) as web:
        feeds = [{"name": f"wire{i}", "url": web.add_feed(h, f"wire{i}", 3)}
                 for i, h in enumerate(web.hosts)]
        cfg = write_config(tmp_path, feeds)
        assert [shard_of(f["url"], 2) for f in feeds] == [0, 1, 1, 0]
        first = asyncio.run(ingest(str(cfg), shard="0/2"))
        assert (first.shard, first.feeds_polled, first.articles_new) == ("0/2", 2, 6)
        assert {h.host for h in web.hits()} == {"127.0.0.10", "127.0.0.13"}
        web.log.clear()
        second = asyncio.run(ingest(str(cfg), shard="1/2"))
        assert (second.shard, second.feeds_polled, second.articles_new) == ("1/2", 2, 6)
        assert {h.host for h in web.hits()} == {"127.0.0.11", "127.0.0.12"}
    with db.connect(tmp_path / "nw.duckdb", read_only=True) as con:
        by_feed = con.execute("SELECT e.feed_url, count(*) FROM articles a JOIN entries e "
                              "ON e.entry_url = a.url GROUP BY 1 ORDER BY 1").fetchall()
    assert by_feed == [(f["url"], 3) for f in sorted(feeds, key=lambda f: f["url"])]


def test_the_flow_refuses_a_bad_shard_before_it_starts() -> None:
    from flows.ingest import ingest

    with pytest.raises(ShardError, match=r"^--shard 2/2: the shard index must be below the "
                                         r"count \(0 to 1\), e.g. 1/2\.$"):
        asyncio.run(ingest.fn(str(ROOT / "newswatch.toml"), shard="2/2"))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newswatch.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_serve_shards_needs_a_warehouse_with_many_writers(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [])
    done = _cli("--config", str(cfg), "serve", "--shards", "2")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"error: --shards 2: the warehouse is a DuckDB file ({tmp_path / 'nw.duckdb'}), which "
        f"takes one writer at a time, so parallel shard ingests would refuse each other. Set "
        f"[warehouse] backend = \"ducklake\" in {cfg} (docs/scale-out.md), or serve one shard "
        f"(--shards 1).\n")


def test_serve_makes_one_ingest_deployment_per_shard() -> None:
    from flows.serve import deployments

    one = deployments("/x/newswatch.toml")
    assert [(d.name, d.parameters) for d in one] == [
        ("ingest", {"config_path": "/x/newswatch.toml"}),
        ("digest", {"config_path": "/x/newswatch.toml"}),
        ("maintenance", {"config_path": "/x/newswatch.toml"})]
    three = deployments("/x/newswatch.toml", shards=3)
    assert [(d.name, d.parameters) for d in three[:3]] == [
        (f"ingest-shard-{i}-of-3", {"config_path": "/x/newswatch.toml", "shard": f"{i}/3"})
        for i in range(3)]
    assert [d.name for d in three[3:]] == ["digest", "maintenance"]
    for d in three:
        assert d.concurrency_limit == 1
    assert [s.schedule.interval.total_seconds() for d in three[:3] for s in d.schedules] == [
        900.0] * 3


def test_ingest_shards_is_a_documented_setting(tmp_path: Path) -> None:
    assert load_config(ROOT / "newswatch.toml").ingest.shards == 1
    cfg = write_config(tmp_path, [], extra="[ingest]\nshards = 4\n")
    assert load_config(cfg).ingest.shards == 4
