"""The ingest flow end to end: the seed fixture over loopback HTTP, Prefect's test harness, a
real DuckDB file, a real webhook receiver for the alerts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import duckdb
import pytest

from flows.ingest import RunSummary, ingest
from newswatch.config import load_config
from tasks.alerts import alert_log
from tests import servers
from tests.conftest import fixture_expectations, fixture_feeds, write_config

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

TOPIC = "trump-putin-contacts"
SEED_TITLE = "Trump says he has spoken to Putin about ending Ukraine war"
COPY_TITLES = [SEED_TITLE, "Trump tells New York Post he spoke with Putin by phone",
               "Trump and Putin discussed ending the war by phone, Trump says"]


def run(cfg: Path, all_feeds: bool = True) -> RunSummary:
    return asyncio.run(ingest(str(cfg), all_feeds=all_feeds))


def q(cfg: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(cfg.parent / "nw.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def with_channel(hook_url: str) -> str:
    from tests.conftest import ROOT

    text = (ROOT / "seeds" / "topics.toml").read_text(encoding="utf-8")
    return text.replace("channels = []", f'channels = ["{hook_url}"]', 1)


def test_seed_to_alert_and_nothing_twice(site: servers.Server, tmp_path: Path) -> None:
    with servers.webhook_receiver() as hook:
        hook_url = hook.url.replace("http://", "json://") + "/alerts"
        cfg = write_config(tmp_path, fixture_feeds(site.url), with_channel(hook_url))
        first = run(cfg)
        assert (first.feeds_polled, first.feeds_failed, first.entries_new, first.pages_fetched,
                first.extracted, first.articles_new, first.duplicates, first.matches_new,
                first.alerts_new) == (3, 0, 7, 7, 7, 7, 0, 3, 1)
        # One alert for the story the three copies make, on each channel: terminal, log, hook.
        assert (first.deliveries_sent, first.deliveries_failed) == (3, 0)

        # The seed article: clean text, right title, date and outlet.
        exp = next(e for e in fixture_expectations().values() if e["role"] == "seed")
        [(title, outlet, published, canonical, text, method, lang)] = q(cfg, f"""
            SELECT title, outlet, strftime(published_at, '%Y-%m-%dT%H:%M:%SZ'), canonical_url,
                   text, extraction_method, language
            FROM articles WHERE title = '{SEED_TITLE}'""")
        assert (title, outlet, published, canonical, method, lang) == (
            exp["title"], "The Daily Meridian", exp["published"], exp["canonical_url"],
            "trafilatura", "en")
        assert text.startswith(exp["text_starts"]) and text.endswith(exp["text_ends"])
        for junk in ("Visitors stand", "Related stories", "All rights reserved", "Home"):
            assert junk not in text

        # The seed and its copies match; the both-named and unrelated articles do not.
        matched = q(cfg, f"""SELECT a.title FROM topic_matches m JOIN articles a USING
                            (article_id) WHERE topic = '{TOPIC}' ORDER BY a.published_at""")
        assert [t for (t,) in matched] == COPY_TITLES
        [(snippet,)] = q(cfg, f"""SELECT m.snippet FROM topic_matches m JOIN articles a
                                  USING (article_id) WHERE a.title = '{SEED_TITLE}'""")
        assert snippet.startswith("US President Donald **Trump** said he has **spoken** to "
                                  "Russian President Vladimir **Putin** by **phone**")
        # The topic's relevance model judged every match, and accepted them.
        probs = q(cfg, f"SELECT probability, relevant FROM topic_matches WHERE topic = '{TOPIC}'")
        assert len(probs) == 3 and all(p >= 0.9 and r for p, r in probs)
        [logged] = alert_log(tmp_path / "alerts.jsonl")
        assert (logged["title"], logged["outlet"], logged["outlets"]) == (
            SEED_TITLE, "The Daily Meridian",
            ["Capital Wire", "Northern Ledger", "The Daily Meridian"])
        [message] = [servers.json_body(hook, 0)]
        assert message["title"] == f"[{TOPIC}] {SEED_TITLE}"
        assert message["message"].splitlines()[:2] == [
            "The Daily Meridian · 2025-02-09 06:12 UTC",
            "3 outlets so far: Capital Wire, Northern Ledger, The Daily Meridian"]

        # Again: nothing new, nothing alerted, nothing fetched but the feeds.
        pages_before = sum(1 for _, p, _ in site.requests if p.startswith("/sites/"))
        second = run(cfg)
        assert (second.feeds_polled, second.entries_new, second.pages_fetched,
                second.articles_new, second.matches_new, second.alerts_new,
                second.deliveries_sent) == (3, 0, 0, 0, 0, 0, 0)
        assert sum(1 for _, p, _ in site.requests if p.startswith("/sites/")) == pages_before
        assert len(hook.bodies) == 1
        assert len(alert_log(tmp_path / "alerts.jsonl")) == 1
        assert q(cfg, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(7, 7)]
        assert q(cfg, "SELECT status, count(*) FROM runs GROUP BY ALL") == [("ok", 2)]


def test_feeds_not_due_are_not_polled(site: servers.Server, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, fixture_feeds(site.url)[:1])
    assert run(cfg, all_feeds=False).feeds_polled == 1
    assert run(cfg, all_feeds=False).feeds_polled == 0  # next due in 15 minutes
    assert run(cfg, all_feeds=True).feeds_polled == 1


def test_bad_feeds_and_pages_are_recorded_and_retried(site: servers.Server,
                                                      tmp_path: Path) -> None:
    feeds = [*fixture_feeds(site.url),
             {"name": "Broken", "url": f"{site.url}/broken.xml"},
             {"name": "Not a feed", "url": f"{site.url}/notfeed.xml"},
             {"name": "Gone", "url": f"{site.url}/gone.xml"}]
    site.routes["/broken.xml"] = servers.status(500)
    site.routes["/notfeed.xml"] = servers.body(b"<html><body>Hello</body></html>")
    site.routes["/gone.xml"] = servers.status(404)
    seed_page = "/" + next(p for p, e in fixture_expectations().items() if e["role"] == "seed")
    site.routes[seed_page] = servers.status(503)
    cfg = write_config(tmp_path, feeds)

    first = run(cfg)
    assert (first.feeds_polled, first.feeds_failed, first.pages_fetched, first.pages_failed,
            first.articles_new) == (6, 3, 6, 1, 6)
    assert q(cfg, """SELECT url, status, reason, http_status FROM fetch_log
                     WHERE kind = 'feed' AND status <> 'ok' ORDER BY url""") == [
        (f"{site.url}/broken.xml", "temp", "http_5xx", 500),
        (f"{site.url}/gone.xml", "hard", "http_404", 404),
        (f"{site.url}/notfeed.xml", "soft", "not_a_feed", 200),
    ]
    assert q(cfg, f"""SELECT state, attempts, last_status, last_reason FROM entries
                      WHERE entry_url = '{site.url}{seed_page}'""") == [
        ("pending", 1, "temp", "http_5xx")]
    assert q(cfg, "SELECT name, error_count FROM feeds WHERE error_count > 0 ORDER BY name") == [
        ("Broken", 1), ("Gone", 1), ("Not a feed", 1)]

    # The outlet recovers: the next run picks up the missed page, and only that page.
    del site.routes[seed_page]
    second = run(cfg)
    assert (second.entries_new, second.pages_fetched, second.articles_new,
            second.alerts_new) == (0, 1, 1, 0)  # the seed joins its copies' story: no alert
    assert q(cfg, f"SELECT count(*) FROM articles WHERE title = '{SEED_TITLE}'") == [(1,)]
    assert q(cfg, "SELECT count(*) FROM articles") == [(7,)]


def test_page_without_article_uses_feed_summary(site: servers.Server, tmp_path: Path) -> None:
    page = "/" + next(p for p, e in fixture_expectations().items()
                      if e["title"].startswith("Chess"))
    site.routes[page] = servers.body(b"<html><body><nav>Home</nav><p>Paywall.</p></body></html>")
    cfg = write_config(tmp_path, fixture_feeds(site.url)[2:])
    summary = run(cfg)
    assert (summary.extracted, summary.fallbacks) == (2, 1)
    assert q(cfg, """SELECT title, text, extraction_method FROM articles
                     WHERE extraction_method = 'feed_summary'""") == [(
        "Chess federation names venue for next world championship match",
        "Lisbon will host the fourteen-game match in November.", "feed_summary")]
    assert q(cfg, "SELECT status, reason FROM extract_log WHERE status <> 'ok'") == [
        ("fallback", "too_short_used_summary")]


def test_same_article_twice_in_one_run_is_stored_once(site: servers.Server,
                                                      tmp_path: Path) -> None:
    """An aggregator lists the seed with tracking parameters (same URL once normalised) and
    at a mirror URL (same rel=canonical): one article, three entries pointing at it."""
    from tests.conftest import FIXTURE

    page = next(p for p, e in fixture_expectations().items() if e["role"] == "seed")
    site.routes["/mirror/seed.html"] = servers.body((FIXTURE / page).read_bytes())
    feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Agg</title>'
            f'<item><title>x</title><link>{site.url}/{page}?utm_source=rss#top</link></item>'
            f'<item><title>y</title><link>{site.url}/mirror/seed.html</link></item>'
            f'</channel></rss>').encode()
    site.routes["/agg.xml"] = servers.body(feed, "application/rss+xml")
    cfg = write_config(tmp_path, [*fixture_feeds(site.url)[:1],
                                  {"name": "Agg", "url": f"{site.url}/agg.xml"}])
    s = run(cfg)
    assert (s.entries_new, s.articles_new, s.alerts_new) == (3, 2, 1)
    assert q(cfg, f"""SELECT count(*), count(DISTINCT article_id) FROM entries
                      WHERE title IN ('x', 'y', '{SEED_TITLE}')""") == [(2, 1)]


def test_a_channel_that_is_down_is_retried_without_duplicates(site: servers.Server,
                                                              tmp_path: Path) -> None:
    with servers.webhook_receiver() as hook:
        hook.routes["/alerts"] = servers.status(503)
        cfg = write_config(tmp_path, fixture_feeds(site.url)[:1],
                           with_channel(hook.url.replace("http://", "json://") + "/alerts"))
        first = run(cfg)
        assert (first.alerts_new, first.deliveries_failed) == (1, 1)
        [(status, attempts, error)] = q(cfg, """SELECT status, attempts, last_error
                                                FROM deliveries WHERE channel LIKE 'json%'""")
        assert (status, attempts) == ("failed", 1)
        assert "503" in error
        import subprocess
        import sys

        from tests.conftest import ROOT

        shown = subprocess.run([sys.executable, "-m", "newswatch.cli", "--config", str(cfg),
                                "status"], capture_output=True, text=True, cwd=ROOT, check=True)
        table = shown.stdout.split("alert deliveries that failed\n", 1)[1].splitlines()
        assert table[0].split() == ["topic", "channel", "attempts", "state", "last", "error"]
        assert table[2].split()[:5] == [TOPIC, "json://127.0.0.1", "1", "will", "retry"]
        assert table[3] == "(1 row)"
        del hook.routes["/alerts"]
        second = run(cfg)
        assert (second.alerts_new, second.deliveries_sent, second.deliveries_failed) == (0, 1, 0)
        assert len(hook.bodies) == 1
        third = run(cfg)
        assert third.deliveries_sent == 0
        assert len(hook.bodies) == 1
        assert len(alert_log(tmp_path / "alerts.jsonl")) == 1


def test_default_config_runs_on_the_local_fixture(tmp_path: Path) -> None:
    """The embedded defaults (file:// feeds) with the warehouse moved into tmp_path."""
    from tests.conftest import ROOT

    cfg = tmp_path / "newswatch.toml"
    cfg.write_text(
        f'[warehouse]\npath = "nw.duckdb"\n[alerts]\nlog = "alerts.jsonl"\nterminal = false\n'
        f'[sources]\nfeeds = "{ROOT}/seeds/feeds.toml"\ntopics = "{ROOT}/seeds/topics.toml"\n',
        encoding="utf-8")
    assert load_config(cfg).fetch.allow_private_networks is False
    s = run(cfg)
    assert (s.feeds_polled, s.articles_new, s.alerts_new) == (3, 7, 1)
    assert q(cfg, "SELECT DISTINCT reason FROM fetch_log ORDER BY 1") == [
        ("file_read",), ("parsed",)]


def test_one_story_from_three_outlets_over_three_runs_alerts_once(site: servers.Server,
                                                                   tmp_path: Path) -> None:
    feeds = fixture_feeds(site.url)
    alerts, outlets = [], []
    for n in (1, 2, 3):  # one more outlet's feed each run
        cfg = write_config(tmp_path, feeds[:n])
        alerts.append(run(cfg).alerts_new)
        outlets.append(q(cfg, f"""SELECT s.outlets FROM stories s JOIN articles a
                                 ON a.article_id = s.story_id WHERE a.title = '{SEED_TITLE}'""")
                       [0][0])
    assert alerts == [1, 0, 0]
    assert outlets == [1, 2, 3]
    assert q(cfg, "SELECT count(*), count(DISTINCT story_id) FROM alerts") == [(1, 1)]
    assert len(alert_log(tmp_path / "alerts.jsonl")) == 1


def test_run_publishes_a_markdown_report_and_match_events(site: servers.Server,
                                                          tmp_path: Path) -> None:
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    cfg = write_config(tmp_path, [*fixture_feeds(site.url),
                                  {"name": "Broken", "url": f"{site.url}/broken.xml"}])
    site.routes["/broken.xml"] = servers.status(500)
    s = run(cfg)
    assert s.events_emitted == 3
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["newswatch-ingest"])))
        report = next(a.data for a in arts if s.run_id in a.data)
        assert report.startswith(f"# newswatch ingest run {s.run_id}\n")
        assert "## New stories (5)" in report
        assert (f"| {SEED_TITLE} | The Daily Meridian | 3 |") in report
        assert "## Articles that joined a story (2)" in report
        assert "## Topic matches (3)" in report
        assert "| no (story already alerted) |" in report
        assert f"| feed | {site.url}/broken.xml | temp | http_5xx |" in report
        # The match events reach the server's event log.
        deadline, found = time.monotonic() + 15, []
        while time.monotonic() < deadline and len(found) < 3:
            r = client.request("POST", "/events/filter", json={
                "filter": {"event": {"name": ["newswatch.topic.matched"]}}, "limit": 50})
            found = [e for e in r.json()["events"] if e["payload"]["run_id"] == s.run_id]
            time.sleep(0.5)
    assert sorted(e["payload"]["topic"] for e in found) == [TOPIC] * 3


def test_a_long_report_lists_the_first_rows_and_says_where_the_rest_are(
        site: servers.Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A section longer than REPORT_ROWS lists that many rows, then how many more and the
    `newswatch sql` query that finds all of them: each query, run on the warehouse, returns
    the whole section."""
    import re

    from tasks import report
    from warehouse import db

    cfg = write_config(tmp_path, [*fixture_feeds(site.url),
                                  *({"name": f"Broken {i}", "url": f"{site.url}/broken{i}.xml"}
                                    for i in range(3))])
    for i in range(3):
        site.routes[f"/broken{i}.xml"] = servers.status(500)
    s = run(cfg)
    monkeypatch.setattr(report, "REPORT_ROWS", 2)
    text = report.markdown(s.run_id, s.counts(), db.run_report(cfg.parent / "nw.duckdb",
                                                                 s.run_id))
    rest = re.findall(r"^… and (\d+) more; all of them: `newswatch sql \"(SELECT \* [^\"]+)\"`$",
                      text, re.M)
    # 5 new stories, 2 that joined one (all shown), 3 topic matches, 3 failed feeds
    assert [n for n, _ in rest] == ["3", "1", "1"]
    assert rest[2][1] == (f"SELECT * FROM fetch_log WHERE run_id = '{s.run_id}' "
                          "AND status NOT IN ('ok', 'not_modified')")
    assert [len(q(cfg, sql)) for _, sql in rest] == [5, 3, 3]
    sections = {part.split("\n", 1)[0]: part for part in text.split("\n## ")}
    assert [len([ln for ln in sections[k].splitlines() if ln.startswith("| ")]) for k in (
        "New stories (5)", "Articles that joined a story (2)", "Topic matches (3)",
        "Failures (3)")] == [3, 3, 3, 3]  # a header and at most two rows each
    assert f"| articles new | {s.articles_new} |" in text  # the counts are never cut


def test_topic_view_and_a_match_the_model_rejects(site: servers.Server, tmp_path: Path) -> None:
    """The topic's view holds its one story; a match its model rejects is stored with its
    probability and raises no alert; a topic removed from the topics file loses its view."""
    from datetime import UTC, datetime

    from tasks.alerts import record_alerts
    from tasks.models import Match

    cfg = write_config(tmp_path, fixture_feeds(site.url))
    run(cfg)
    view = "topics.trump_putin_contacts"
    assert q(cfg, f"SELECT title, outlets, relevant, alerted FROM {view}") == [
        (SEED_TITLE, 3, True, True)]
    [(other,)] = q(cfg, "SELECT article_id FROM articles WHERE article_id NOT IN "
                        "(SELECT article_id FROM topic_matches) ORDER BY article_id LIMIT 1")
    rejected = Match(TOPIC, other, 4.0, ("lead:putin", "lead:trump"), "", 0.12, False)
    stored, alerted = record_alerts(load_config(cfg), "r-test", [rejected],
                                    now=datetime.now(UTC))
    assert (stored, alerted) == (1, [])
    assert q(cfg, f"SELECT probability, relevant FROM topic_matches WHERE article_id = '{other}'"
             ) == [(0.12, False)]
    assert q(cfg, "SELECT count(*) FROM alerts") == [(1,)]
    assert q(cfg, f"SELECT count(*) FROM {view} WHERE NOT relevant AND NOT alerted") == [(1,)]
    # Topics file without the topic: the next run drops its view, keeps its matches.
    (tmp_path / "topics.toml").write_text('[[topic]]\nname = "chess"\nquery = "chess"\n',
                                          encoding="utf-8")
    run(cfg)
    assert q(cfg, "SELECT view_name FROM duckdb_views() WHERE schema_name = 'topics'") == [
        ("chess",)]
    assert q(cfg, f"SELECT count(*) FROM topic_matches WHERE topic = '{TOPIC}'") == [(4,)]


def test_a_stage_hands_its_arguments_over_without_prefect_walking_them() -> None:
    """Prefect walks a task's arguments item by item (twice a call); a run's config with
    thousands of feeds made that ~60 ms a stage. A stage's arguments reach it unwalked."""
    from prefect import flow

    from tasks import stage

    walks = []

    class Feeds(list):  # counts each time something iterates it
        def __iter__(self):  # type: ignore[no-untyped-def]
            walks.append(1)
            return super().__iter__()

    feeds = Feeds(range(3))
    got = []
    probe = stage("probe")(lambda cfg, *, also: got.append((cfg, also)))

    @flow
    def one_stage() -> None:
        probe(feeds, also=feeds)

    one_stage()
    assert got == [(feeds, feeds)] and got[0][0] is feeds
    assert walks == []
    walks.clear()
    flow(lambda: probe.task(feeds, also=feeds))()  # Prefect's own task walks it
    assert len(walks) >= 2
