"""Fetching against the local news web (tests/simulator.py): politeness, retries, Retry-After,
pinned DNS, allowed networks, incremental polling behind honest and lying servers, feed health,
offline runs, the feed's own intervals, XML entity safety, and a run full of bad behaviour that
goes on and damages nothing."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newswatch.config import FetchConfig, load_config
from tasks.feeds import next_state
from tasks.fetch import spread_by_host
from tasks.http import Fetcher
from tasks.models import Entry, FeedPoll, FeedState, FetchResult
from tasks.parse import parse_bytes, parse_feed
from tests.conftest import write_config
from tests.simulator import NewsWeb, article_html, news_web, rss
from tests.test_flow import q, run

SIM = FetchConfig(allow_private_networks=True, allowed_networks="127.0.0.0/8",
                  connect_timeout_s=2, read_timeout_s=1, total_timeout_s=4,
                  per_host_interval_s=0.0, max_retries=2, retry_backoff_s=0.05)


def fetch_all(cfg: FetchConfig, urls: list[str], **kw: object) -> list[FetchResult]:
    async def go() -> list[FetchResult]:
        async with Fetcher(cfg, **kw) as f:  # type: ignore[arg-type]
            return await asyncio.gather(*(f.get(u, max_bytes=200_000) for u in urls))
    return asyncio.run(go())


# --- the HTTP seam --------------------------------------------------------------------------

def test_per_host_concurrency_and_interval_are_kept() -> None:
    with news_web(hosts=2, latency_s=0.05) as web:
        urls = [web.put(h, f"/p{i}", b"ok") for h in web.hosts for i in range(8)]
        cfg = replace(SIM, per_host_concurrency=2, per_host_interval_s=0.1)
        results = fetch_all(cfg, urls)
        assert [r.status for r in results] == ["ok"] * 16
        for host in web.hosts:
            assert web.peak[host] <= 2
            starts = sorted(h.start for h in web.hits(host))
            gaps = [b - a for a, b in itertools.pairwise(starts)]
            # The 0.1 s interval, seen at the server: thread wake-up jitter shaves a few ms.
            assert len(starts) == 8 and min(gaps) >= 0.08
        # Two hosts are polled side by side: the whole took about half of one after the other.
        assert max(h.end for h in web.log) - min(h.start for h in web.log) < 8 * 0.1 * 1.6


def test_a_busy_hosts_pages_are_spread_through_the_run() -> None:
    """In URL order host a's six pages would fill the first two chunks of three, which would
    wait on a's politeness; spread, each chunk of three holds two of a's, in their order."""
    urls = [f"http://a.example/{i}" for i in range(6)] + [
        "http://b.example/0", "http://B.example:8080/1", "http://c.example/0", "http://[::1/x"]
    order = [u.removeprefix("http://") for u in spread_by_host(urls)]
    assert order == ["a.example/0", "a.example/1", "b.example/0", "a.example/2", "c.example/0",
                     "[::1/x", "a.example/3", "a.example/4", "B.example:8080/1", "a.example/5"]


def test_retry_after_is_honoured_for_the_host_and_then_retried() -> None:
    with news_web(hosts=1) as web:
        host = web.hosts[0]
        first = web.put(host, "/busy", b"finally", behaviour="retry_after:1")
        [r] = fetch_all(SIM, [first])
        assert (r.status, r.reason, r.attempts, r.body) == ("ok", "http_200", 2, b"finally")
        a, b = web.hits(host, "/busy")
        assert (a.status, b.status) == (429, 200)
        assert b.start - a.start >= 1.0


def test_a_retry_after_beyond_the_cap_waits_for_a_later_run() -> None:
    with news_web(hosts=1) as web:
        host = web.hosts[0]
        busy = web.put(host, "/busy", b"x", behaviour="retry_after:3600")
        other = web.put(host, "/other", b"y")
        cfg = replace(SIM, max_retry_after_s=1.0)

        async def go() -> tuple[FetchResult, FetchResult]:
            async with Fetcher(cfg) as f:
                r1 = await f.get(busy, max_bytes=100)
                r2 = await f.get(other, max_bytes=100)  # the same host: held
                return r1, r2

        r1, r2 = asyncio.run(go())
        assert (r1.status, r1.reason, r1.attempts, r1.retry_after_s) == (
            "temp", "http_429", 1, 3600.0)
        assert (r2.status, r2.reason) == ("temp", "retry_after")
        assert [h.path for h in web.log] == ["/busy"]  # /other was never sent


@pytest.mark.parametrize(("behaviour", "status", "reason", "attempts", "hits"), [
    ("flaky:2", "ok", "http_200", 3, 3),
    ("status:500", "temp", "http_5xx", 3, 3),
    ("status:404", "hard", "http_404", 1, 1),  # not a passing failure: no retry
])
def test_passing_failures_are_retried_with_backoff(behaviour: str, status: str, reason: str,
                                                   attempts: int, hits: int) -> None:
    with news_web(hosts=1) as web:
        url = web.put(web.hosts[0], "/p", b"body", behaviour=behaviour)
        [r] = fetch_all(SIM, [url])
        assert (r.status, r.reason, r.attempts) == (status, reason, attempts)
        assert len(web.log) == hits


def test_redirects_are_recorded_hop_by_hop() -> None:
    with news_web(hosts=2) as web:
        a, b = web.hosts
        final = web.put(b, "/final", b"here")
        mid = web.put(a, "/mid", b"", behaviour=f"redirect:{final}")
        start = web.put(a, "/start", b"", behaviour="redirect:/mid")
        [r] = fetch_all(SIM, [start])
        assert (r.status, r.final_url, r.body) == ("ok", final, b"here")
        assert r.redirects == (f"302 {mid}", f"302 {final}")
        assert r.log_row("run", "page", start)["redirects"] == [f"302 {mid}", f"302 {final}"]


def test_dns_is_resolved_once_and_the_checked_address_is_used() -> None:
    with news_web(hosts=1) as web:
        host = web.hosts[0]
        web.put(host, "/p", b"pinned")
        port = web.ports[host]
        answers = {"news.example": [host], "rebind.example": [host, "10.0.0.1"],
                   "metadata.example": ["169.254.169.254"]}
        seen: list[str] = []

        def resolver(name: str, _port: int) -> list[str]:
            seen.append(name)
            return answers[name]

        ok, mixed, meta = fetch_all(SIM, [f"http://{n}:{port}/p" for n in answers],
                                    resolver=resolver)
        assert (ok.status, ok.body) == ("ok", b"pinned")
        assert [h.headers["host"] for h in web.log] == [f"news.example:{port}"]
        assert (mixed.status, mixed.reason) == ("hard", "private_address")
        assert (meta.status, meta.reason) == ("hard", "private_address")
        assert sorted(seen) == sorted(answers)  # one lookup each


def test_private_networks_outside_the_allowed_ones_are_refused_without_traffic() -> None:
    urls = ["http://10.0.0.1/x", "http://192.168.1.1/x", "http://169.254.169.254/latest",
            "http://[::1]:9/x", "http://224.0.0.1/x", "http://0.0.0.0:9/x"]
    results = fetch_all(SIM, urls)  # allowed_networks = 127.0.0.0/8 only
    assert [(r.status, r.reason) for r in results] == [("hard", "private_address")] * 6
    strict = fetch_all(replace(SIM, allow_private_networks=False), ["http://127.0.0.1:9/x"])
    assert [(r.status, r.reason) for r in strict] == [("hard", "private_address")]


def test_xml_entities_cannot_blow_up_or_read_files() -> None:
    lol = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol">'
           + "".join(f'<!ENTITY a{i + 1} "{("&a" + (str(i) if i else "") + ";") * 10}">'
                     for i in range(9))
           + ']><rss version="2.0"><channel><title>&a9;</title><item><title>t</title>'
             '<link>http://example.org/1</link></item></channel></rss>')
    started = time.monotonic()
    parsed = parse_bytes(lol.encode(), {})
    assert time.monotonic() - started < 10
    assert len(parsed.feed.get("title", "")) < 1000  # 10^9 "lol"s were not expanded
    xxe = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<rss version="2.0"><channel><title>t&x;</title><item><title>i&x;</title>'
           b'<link>http://example.org/1</link></item></channel></rss>')
    parsed = parse_bytes(xxe, {})
    assert (parsed.feed.title, parsed.entries[0].title) == ("t", "i")


# --- scheduling: pure functions over one poll ------------------------------------------------

def _poll(cfg_path: Path, status: str, reason: str, feed: FeedState,
          hint: int | None = None, retry_after: float | None = None) -> FeedPoll:
    at = datetime(2025, 2, 10, 12, 0, tzinfo=UTC)
    f = FetchResult(url=feed.url, status=status, reason=reason, fetched_at=at,  # type: ignore[arg-type]
                    retry_after_s=retry_after)
    return FeedPoll(feed, f, status, reason, interval_hint=hint)  # type: ignore[arg-type]


def test_failures_slow_a_feed_to_once_a_day_and_one_success_restores_it(
        tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path, []))
    feed = FeedState("http://example.org/f", "f", "o", False)
    waits = []
    for status in ["hard"] * 12:
        s = next_state(cfg, _poll(tmp_path, status, "http_404", feed), offline=False)
        waits.append(round((s["next_due_at"] - s["fetched_at"]).total_seconds() / 60))
        feed = replace(feed, failure_weight=s["failure_weight"], error_count=s["error_count"])
    assert waits == [29, 59, 119, 239, 479, 959, 1439, 1439, 1439, 1439, 1439, 1439]
    assert (feed.failure_weight, feed.error_count) == (12.0, 12)  # never disabled
    s = next_state(cfg, _poll(tmp_path, "temp", "http_5xx", replace(feed, failure_weight=0)),
                   offline=False)
    assert s["failure_weight"] == 0.5
    ok = next_state(cfg, _poll(tmp_path, "ok", "parsed", feed), offline=False)
    assert (ok["failure_weight"], ok["error_count"]) == (0.0, 0)
    assert ok["next_due_at"] - ok["fetched_at"] == timedelta(minutes=14)
    offline = next_state(cfg, _poll(tmp_path, "temp", "connect_error", feed), offline=True)
    assert (offline["failure_weight"], offline["error_count"]) == (12.0, 12)  # unpunished


def test_a_feeds_own_interval_within_bounds_and_retry_after(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path, []))
    feed = FeedState("http://example.org/f", "f", "o", False)
    got = {}
    for name, channel, headers in [
        ("ttl", "<ttl>120</ttl>", {}),
        ("sy", '<sy:updatePeriod xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
               'daily</sy:updatePeriod>', {}),
        ("sy_freq", '<sy:updatePeriod xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
                    'hourly</sy:updatePeriod><sy:updateFrequency xmlns:sy="http://purl.org/'
                    'rss/1.0/modules/syndication/">2</sy:updateFrequency>', {}),
        ("max_age", "", {"cache-control": "public, max-age=1800"}),
        ("too_fast", "<ttl>1</ttl>", {}),
    ]:
        body = rss("f", [("t", "http://example.org/1")], channel)
        fetch = FetchResult(url=feed.url, status="ok", reason="http_200",
                            fetched_at=datetime.now(UTC), headers=headers, body=body)
        poll = parse_feed(feed, fetch)
        got[name] = (poll.interval_hint, next_state(cfg, poll, offline=False)["interval_min"])
    assert got == {"ttl": (120, 120), "sy": (1440, 360), "sy_freq": (30, 30),
                   "max_age": (30, 30), "too_fast": (1, 15)}
    s = next_state(cfg, _poll(tmp_path, "temp", "http_429", feed, retry_after=7200),
                   offline=False)
    assert s["next_due_at"] - s["fetched_at"] == timedelta(hours=2)


# --- end to end through the flow -------------------------------------------------------------

def _feeds(web: NewsWeb, specs: list[tuple[str, str, int, str]]) -> list[dict]:
    return [{"name": name, "outlet": name, "url": web.add_feed(host, name, n, behaviour)}
            for host, name, n, behaviour in specs]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_second_poll_is_conditional_and_fetches_no_article_again(tmp_path: Path) -> None:
    with news_web(hosts=3) as web:
        h = web.hosts
        feeds = _feeds(web, [(h[0], "alpha", 4, "honest"), (h[1], "beta", 4, "honest"),
                             (h[2], "gamma", 4, "new_etag")])
        cfg = write_config(tmp_path, feeds, "")
        first = run(cfg)
        assert (first.feeds_polled, first.entries_new, first.articles_new) == (3, 12, 12)
        pages_before = len([x for x in web.log if x.path.endswith(".html")])
        second = run(cfg)
        assert (second.entries_new, second.pages_fetched, second.articles_new) == (0, 0, 0)
        assert len([x for x in web.log if x.path.endswith(".html")]) == pages_before == 12
        feed_hits = [x for x in web.log if x.path.endswith("feed.xml")][3:]
        assert sorted((x.path, "if-none-match" in x.headers, x.status) for x in feed_hits) == [
            ("/alpha/feed.xml", True, 304), ("/beta/feed.xml", True, 304),
            ("/gamma/feed.xml", True, 200)]  # a new ETag every time: the body hash sees it
        assert sorted(q(cfg, """SELECT url, status, reason FROM fetch_log WHERE kind = 'feed'
                                ORDER BY fetched_at DESC LIMIT 3""")) == sorted([
            (feeds[0]["url"], "not_modified", "http_304"),
            (feeds[1]["url"], "not_modified", "http_304"),
            (feeds[2]["url"], "not_modified", "same_body")])


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_run_with_many_feeds_parses_them_in_its_extraction_workers(tmp_path: Path) -> None:
    """Six feeds are one page's work (FEEDS_PER_PAGE): with pool_threshold 1 the workers start
    before the feeds download, parse them, then extract the pages. The fetch log keeps each
    feed's size, though its bytes stayed in the worker."""
    with news_web(hosts=3) as web:
        feeds = _feeds(web, [(web.hosts[n % 3], f"f{n}", n % 3 + 1, "honest") for n in range(6)])
        cfg = write_config(tmp_path, feeds, "", extra="[extract]\npool_threshold = 1\n"
                                                      "workers = 2\n")
        s = run(cfg)
        assert (s.feeds_polled, s.feeds_failed, s.entries_new, s.articles_new) == (6, 0, 12, 12)
        served = {web.url(h, p): len(page.body) for (h, p), page in web.pages.items()
                  if p.endswith("feed.xml")}
        assert dict(q(cfg, "SELECT url, bytes FROM fetch_log WHERE kind = 'feed'")) == served
        assert q(cfg, "SELECT count(*), count(DISTINCT title) FROM articles") == [(12, 12)]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_behind_a_server_that_lies_with_304_new_entries_are_still_found(
        tmp_path: Path) -> None:
    with news_web(hosts=1) as web:
        host = web.hosts[0]
        feeds = _feeds(web, [(host, "liar", 2, "stale_304")])
        cfg = write_config(tmp_path, feeds, "", extra="unconditional_every = 2\n")
        assert run(cfg).articles_new == 2
        new_url = web.put(host, "/liar/late.html", article_html("liar late story", 7))
        web.add_items(host, "liar", [("liar late story", new_url)])
        news = [run(cfg).articles_new for _ in range(2)]
        assert news == [0, 1]  # the 304 hid it once; the unconditional poll found it
        conditional = ["if-none-match" in x.headers for x in web.hits(host, "/liar/feed.xml")]
        assert conditional == [False, True, False]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_run_full_of_bad_behaviour_goes_on_and_damages_nothing(tmp_path: Path) -> None:
    with news_web(hosts=3) as web:
        h0, h1, h2 = web.hosts
        good = _feeds(web, [(h0, "good", 2, "honest")])
        bad_feeds = [
            {"name": "down", "url": web.put(h1, "/down.xml", b"", behaviour="status:500")},
            {"name": "slow", "url": web.put(h1, "/slow.xml", b"<rss/>", behaviour="timeout:6")},
            {"name": "junk", "url": web.put(h1, "/junk.xml", b"<html><p>not a feed",
                                            "text/html")},
        ]
        pages = {
            "bomb": web.put(h2, "/bomb.html", b"", behaviour="gzip_bomb:50000000"),
            "huge": web.put(h2, "/huge.html", b"", behaviour="huge:6000000"),
            "drip": web.put(h2, "/drip.html", b"x" * 100, behaviour="drip:0.1"),
            "loop": web.put(h2, "/loop.html", b"", behaviour="redirect:/loop.html"),
            "lie": web.put(h2, "/lie.html", article_html("Café crème at the café", 3)
                           .replace(b"</h1>", "</h1><p>Café society.</p>".encode()),
                           behaviour="charset_lie"),
            "private": "http://10.0.0.1/internal.html",
        }
        mixed_feed = web.put(h2, "/mixed.xml", rss("mixed", list(
            (name, url) for name, url in pages.items())), "application/rss+xml")
        feeds = [*good, *bad_feeds, {"name": "mixed", "url": mixed_feed}]
        cfg = write_config(tmp_path, feeds, "")
        s = run(cfg)
        assert (s.feeds_polled, s.feeds_failed, s.articles_new) == (5, 3, 3)
        assert q(cfg, "SELECT status FROM runs") == [("ok",)]
        assert sorted(q(cfg, "SELECT url, status, reason FROM fetch_log WHERE kind = 'feed'")) \
            == sorted([(good[0]["url"], "ok", "parsed"),
                       (bad_feeds[0]["url"], "temp", "http_5xx"),
                       (bad_feeds[1]["url"], "temp", "timeout"),
                       (bad_feeds[2]["url"], "soft", "not_a_feed"),
                       (mixed_feed, "ok", "parsed")])
        page_log = dict(((u, (st, r)) for u, st, r in q(
            cfg, "SELECT url, status, reason FROM fetch_log WHERE kind = 'page'")))
        assert {name: page_log[url] for name, url in pages.items()} == {
            "bomb": ("hard", "too_large"), "huge": ("hard", "too_large"),
            "drip": ("temp", "timeout"), "loop": ("hard", "too_many_redirects"),
            "lie": ("ok", "http_200"), "private": ("hard", "private_address")}
        [(text,)] = q(cfg, "SELECT text FROM articles WHERE title LIKE 'Caf%'")
        assert "Café society." in text and "Ã" not in text  # Latin-1 labelled UTF-8, decoded
        assert not [x for x in web.log if x.host not in web.hosts]  # nothing left loopback
        # A later run: nothing stored is damaged, the passing failure is tried again.
        stored = q(cfg, "SELECT article_id, content_hash FROM articles ORDER BY 1")
        again = run(cfg)
        assert again.articles_new == 0
        assert q(cfg, "SELECT article_id, content_hash FROM articles ORDER BY 1") == stored
        assert len(web.hits(h2, "/drip.html")) == 2
        assert q(cfg, """SELECT state FROM entries WHERE entry_url = 'http://10.0.0.1/internal.html'
                      """) == [("failed",)]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_when_every_feed_fails_at_the_network_level_the_run_is_offline(tmp_path: Path) -> None:
    # Nothing listens on port 9 of these loopback addresses: connection refused on both hosts.
    feeds = [{"name": f"f{i}", "url": f"http://127.0.0.{20 + i}:9/feed.xml"} for i in range(2)]
    cfg = write_config(tmp_path, feeds, "")
    s = run(cfg)
    assert s.offline
    assert q(cfg, "SELECT offline FROM runs") == [(True,)]
    assert q(cfg, "SELECT last_reason, failure_weight, error_count FROM feeds ORDER BY 1") == [
        ("connect_error", 0.0, 0), ("connect_error", 0.0, 0)]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_offline_is_decided_over_every_batch_of_feeds(tmp_path: Path) -> None:
    """Feeds are polled in batches of [ingest] chunk_feeds, and whether the run was offline is
    decided over all of them. Spread by host, the 12 feeds go a0-a5, b, a6-a8 | a9, a10: the
    second batch, on one host only, would not be offline alone, and its feeds would be
    penalised."""
    feeds = [{"name": f"a{i}", "url": f"http://127.0.0.20:9/feed-{i:02}.xml"} for i in range(11)]
    feeds.append({"name": "b", "url": "http://127.0.0.21:9/feed.xml"})
    cfg = write_config(tmp_path, feeds, "", extra="[ingest]\nchunk_feeds = 10\n")
    s = run(cfg)
    assert (s.offline, s.feeds_polled, s.feeds_failed) == (True, 12, 12)
    assert q(cfg, "SELECT count(*) FROM fetch_log WHERE kind = 'feed'") == [(12,)]
    assert q(cfg, "SELECT last_reason, max(failure_weight), max(error_count), count(*) "
                  "FROM feeds GROUP BY 1") == [("connect_error", 0.0, 0, 12)]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_pages_are_archived_as_warc_and_reextracted_without_fetching(tmp_path: Path) -> None:
    import duckdb

    from tasks.archive import read_record
    from tests.test_cli import cli

    with news_web(hosts=1) as web:
        host = web.hosts[0]
        feeds = _feeds(web, [(host, "arch", 2, "honest")])
        cfg = write_config(tmp_path, feeds, "")
        assert run(cfg).articles_new == 2
        rows = q(cfg, "SELECT url, text, warc_file, warc_offset FROM articles ORDER BY url")
        day = datetime.now(UTC).date().isoformat()
        assert [r[2].split("/")[0] for r in rows] == [day, day]
        # One file for the run; its records in the order the pages arrived.
        assert rows[0][2] == rows[1][2] and sorted(r[3] for r in rows)[0] == 0
        assert rows[0][3] != rows[1][3]
        for url, _text, file, offset in rows:
            rec = read_record(load_config(cfg).archive_dir, file, offset)
            assert rec is not None and rec.url == url
            assert rec.body == web.pages[(host, url.split(str(web.ports[host]))[1])].body
            assert rec.content_type == "text/html; charset=utf-8"
        requests = len(web.log)
        out = cli("--config", str(cfg), "reextract")
        assert out.stdout == ("reextract: 2 archived article(s): 0 changed, 2 unchanged, "
                              "0 without an article now (old text kept), 0 missing from the "
                              "archive\n")
        # An older extractor's text is replaced by today's; nothing is fetched for it.
        with duckdb.connect(str(tmp_path / "nw.duckdb")) as con:
            con.execute("UPDATE articles SET text = 'old extractor output'")
        out = cli("--config", str(cfg), "reextract")
        assert out.stdout.startswith("reextract: 2 archived article(s): 2 changed, 0 unchanged")
        assert q(cfg, "SELECT url, text FROM articles ORDER BY url") == [r[:2] for r in rows]
        assert q(cfg, "SELECT count(*) FROM extract_log WHERE run_id LIKE 'reextract-%'") == [
            (4,)]
        assert len(web.log) == requests


def test_a_chunks_pages_are_archived_as_they_arrive_and_let_go_of_their_bodies(
        tmp_path: Path) -> None:
    """A page is extracted and archived as it arrives, and comes back without its body (the
    run no longer holds a chunk's bodies until the chunk is stored); its record reads back
    as the page, each in turn in the run's file. A page that failed is not archived."""
    from tasks.archive import Archive, read_record
    from tasks.extract import Extractor
    from tasks.fetch import fetch_and_extract

    with news_web(hosts=1) as web:
        host = web.hosts[0]
        urls = [web.put(host, f"/p/{k}.html", article_html(f"page {k}", k)) for k in range(6)]
        urls.append(web.url(host, "/p/gone.html"))
        cfg = load_config(write_config(tmp_path, []))
        entries = [Entry(u, "f", None, None, None, datetime.now(UTC), "o") for u in urls]

        async def chunk() -> tuple:
            async with Fetcher(cfg.fetch) as fetcher:
                with Extractor(cfg, len(entries)) as ex, Archive(cfg, "run000000001") as arch:
                    return await fetch_and_extract(cfg, entries, fetcher, ex, arch)

        pages, extractions, archived = asyncio.run(chunk())
        served = {u: web.pages[(host, u.split(str(web.ports[host]))[1])].body for u in urls[:6]}
    assert [p.entry.entry_url for p in pages] == urls
    assert [(p.fetch.status, p.fetch.body, p.fetch.size) for p in pages] == [
        ("ok", b"", len(served[u])) for u in urls[:6]] + [("hard", b"", 0)]
    assert [x.status for x in extractions] == ["ok"] * 6
    assert sorted(archived) == sorted(urls[:6])
    day = datetime.now(UTC).date().isoformat()
    assert {s.file for s in archived.values()} == {f"{day}/run000000001.warc.gz"}
    offsets = sorted(s.offset for s in archived.values())
    assert offsets[0] == 0 and len(set(offsets)) == 6
    for url, s in archived.items():
        rec = read_record(cfg.archive_dir, s.file, s.offset)
        assert rec is not None and (rec.url, rec.body) == (url, served[url])
