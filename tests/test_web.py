"""newswatch web in a real browser: Debian's headless chromium through chromium-driver, against
`newswatch web` started as a process on a free loopback port, over a warehouse a real ingest of
the seed fixture built (plus a feed that answers 404)."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from flows.ingest import ingest
from tests import browser
from tests.conftest import FIXTURE, ROOT, fixture_expectations, fixture_feeds, write_config
from tests.servers import Server, static_site

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

TOPIC = "trump-putin-contacts"
SEED_TITLE = "Trump says he has spoken to Putin about ending Ukraine war"
OUTLETS = ["Capital Wire", "Northern Ledger", "The Daily Meridian"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(cfg: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "newswatch.cli", "--config", str(cfg), "web", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def serving(cfg: Path) -> Iterator[str]:
    """`newswatch web` on a free loopback port until the caller is done; yields its URL."""
    port = free_port()
    proc = start_web(cfg, "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/search", timeout=2).read()
            break
        except OSError:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "newswatch web did not start in 30 s"
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def site() -> Iterator[Server]:
    with static_site(FIXTURE) as server:
        yield server


@pytest.fixture(scope="module")
def cfg(site: Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("web")
    gone = {"name": "Gone Gazette", "outlet": "Gone Gazette", "url": f"{site.url}/feeds/gone.xml"}
    feeds = [*fixture_feeds(site.url), gone]
    # The shipped model; labels copied, so that the web's labels land in the copy.
    (tmp / "labels").mkdir()
    shutil.copy(ROOT / "seeds" / "labels" / f"{TOPIC}.jsonl", tmp / "labels")
    path = write_config(tmp, feeds, labels=tmp / "labels")
    asyncio.run(ingest(str(path), all_feeds=True))
    return path


@pytest.fixture(scope="module")
def base(cfg: Path) -> Iterator[str]:
    yield from serving(cfg)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def chrome() -> Iterator[Any]:
    why = browser.missing()
    if why:
        pytest.skip(why)
    with browser.chromium() as driver:
        yield driver


def css(d: Any, selector: str) -> list[Any]:
    return d.find_elements("css selector", selector)


def one(d: Any, selector: str) -> Any:
    found = css(d, selector)
    assert len(found) == 1, f"{selector}: {len(found)} elements on {d.current_url}"
    return found[0]


def click(d: Any, element: Any) -> None:
    """Click a link or button and wait for the next page to replace this one."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.wait import WebDriverWait

    page = d.find_element("css selector", "html")
    element.click()

    def replaced(_: Any) -> bool:
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            # Asked mid-navigation, Chrome may answer with its inspector's words for the same
            # thing (seen once in CI) rather than a stale-element error.
            if "does not belong to the document" in str(e):
                return True
            raise
        return False

    WebDriverWait(d, 15).until(replaced)


def shot(d: Any, folder: Path, name: str) -> None:
    height = d.execute_script("return document.body.scrollHeight")
    d.set_window_size(1280, min(max(height + 40, 600), 4000))
    assert d.save_screenshot(str(folder / f"{name}.png"))
    d.set_window_size(1280, 1000)


def values(d: Any, selector: str) -> list[float]:
    return [float(e.get_attribute("data-value")) for e in css(d, selector)]


def test_overview(chrome: Any, base: str, cfg: Path, shots: Path) -> None:
    from newswatch.config import load_config
    from tasks.labels import model_summary

    chrome.get(base + "/")
    section = one(chrome, f"#topic-{TOPIC}")
    got = {k: section.find_element("css selector", f".{k}").text
           for k in ("matches", "stories", "new-stories", "alerts", "sent", "failed")}
    # Three copies of one story matched; one alert, delivered to the terminal and the log.
    assert got == {"matches": "3", "stories": "1", "new-stories": "1", "alerts": "1",
                   "sent": "2", "failed": "0"}
    # 30 days, one bar and one point each: today holds the three matches of one story.
    bars = values(chrome, f"#topic-{TOPIC} svg rect.bar")
    points = values(chrome, f"#topic-{TOPIC} svg circle.point")
    assert (len(bars), len(points)) == (30, 30)
    assert (bars[-1], points[-1], sum(bars), sum(points)) == (3, 1, 3, 1)
    # The topic's shipped relevance model, its cross-validated figures.
    m = model_summary(load_config(cfg), TOPIC)
    assert m is not None
    assert section.find_element("css selector", ".model").text == (
        f"{m['precision']:.2f} / {m['recall']:.2f}\nmodel precision / recall, cross-validated "
        f"({m['positives']} relevant, {m['negatives']} not)")
    shot(chrome, shots, "overview")
    click(chrome, section.find_element("link text", TOPIC))
    assert one(chrome, "h1").text == TOPIC


def test_topic_page(chrome: Any, base: str, cfg: Path, shots: Path) -> None:
    chrome.get(f"{base}/topics/{TOPIC}")
    assert one(chrome, "#topic-query").text == "trump AND putin AND contact"
    assert (one(chrome, "#n-matches").text, one(chrome, "#n-stories").text) == ("3", "1")
    # All of its (young) history: two weeks of days up to the publication day, Feb 9 2025.
    bars = values(chrome, "#attention svg rect.bar")
    assert (len(bars), bars[-1], sum(bars)) == (14, 3, 3)
    assert values(chrome, "#attention svg circle.point")[-1] == 1
    story = one(chrome, "article.story")
    assert story.find_element("css selector", ".story-title").text == SEED_TITLE
    assert [p.text for p in story.find_elements("css selector", ".outlets .pill")] == OUTLETS
    assert [m.text for m in story.find_elements("css selector", ".snippet mark")][:3] == [
        "Trump", "spoken", "Putin"]
    assert story.find_element("css selector", ".alert").text.endswith(
        "at 3 outlets: 2 sent, 0 failed")
    assert len(story.find_elements("css selector", ".match")) == 3
    with duckdb.connect(str(cfg.parent / "nw.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT article_id, probability FROM topic_matches").fetchall()
    assert {(m.get_attribute("id"), m.find_element("css selector", ".probability").text)
            for m in story.find_elements("css selector", ".match")} == {
        (f"m-{a}", f"p={p:.2f}") for a, p in stored}
    shot(chrome, shots, "topic")
    click(chrome, story.find_element("css selector", ".story-title"))
    assert one(chrome, "#story-title").text == SEED_TITLE


def test_topic_query_box_runs_without_saving(chrome: Any, base: str, cfg: Path) -> None:
    chrome.get(f"{base}/topics/{TOPIC}")
    box = one(chrome, "#try-query")
    box.clear()
    box.send_keys("title:putin")
    click(chrome, one(chrome, "#try-run"))
    assert one(chrome, "#result-count").text == (
        "3 matches in 7 stored articles · showing 1–3 · nothing was saved")
    assert len(css(chrome, "#tried tr.result")) == 3
    bars = values(chrome, "#tried svg rect.bar")
    assert (len(bars), bars[-1]) == (14, 3)
    with duckdb.connect(str(cfg.parent / "nw.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM topic_matches").fetchone() == (3,)


def test_query_box_applies_the_topics_model_to_its_query(chrome: Any, base: str) -> None:
    chrome.get(f"{base}/topics/{TOPIC}")
    click(chrome, one(chrome, "#try-run"))  # the topic's own query, as the box starts
    assert one(chrome, "#result-count").text.startswith("3 matches in 7 stored articles")
    assert one(chrome, "#model-accepts").text.startswith(
        "the topic's relevance model accepts 3 of them (probability ≥ ")
    assert len(css(chrome, "#tried td.probability")) == 3


def test_story_page(chrome: Any, base: str, shots: Path) -> None:
    chrome.get(f"{base}/topics/{TOPIC}")
    click(chrome, one(chrome, ".story-title"))
    assert one(chrome, "#n-outlets").text == "3"
    rows = css(chrome, "#articles tr.article")
    assert [(r.find_element("css selector", ".outlet").text,
             r.find_element("css selector", ".relation").text) for r in rows] == [
        ("The Daily Meridian", "first report"),
        ("Northern Ledger", "near-duplicate of The Daily Meridian"),
        ("Capital Wire", "near-duplicate of The Daily Meridian")]
    assert len(css(chrome, "#sightings tr.sighting")) == 3
    assert len(css(chrome, "#timeline svg circle.point")) == 3
    exp = next(e for e in fixture_expectations().values() if e["role"] == "seed")
    text = one(chrome, "#first-text").text
    assert text.startswith(exp["text_starts"]) and "Related stories" not in text
    shot(chrome, shots, "story")
    click(chrome, chrome.find_element("link text", TOPIC))
    assert one(chrome, "h1").text == TOPIC


def test_feeds_page(chrome: Any, base: str, shots: Path) -> None:
    chrome.get(base + "/feeds")
    rows = [[c.text for c in r.find_elements("css selector", ".name, .status, .reason, .entries")]
            for r in css(chrome, "#feeds tr.feed")]
    assert rows == [["Gone Gazette", "hard", "http_404", "0"],  # failing first
                    ["Capital Wire", "ok", "parsed", "3"],
                    ["Northern Ledger", "ok", "parsed", "2"],
                    ["The Daily Meridian — World", "ok", "parsed", "2"]]
    assert len(css(chrome, "#runs-chart svg g.bar")) == 1
    assert len(css(chrome, "#runs-chart svg rect.segment")) >= 10
    shot(chrome, shots, "feeds")


def test_search_paginates(chrome: Any, base: str, shots: Path) -> None:
    chrome.get(base + "/search")
    one(chrome, "#search-query").send_keys("putin")
    click(chrome, one(chrome, "#search-run"))
    assert one(chrome, "#result-count").text == (
        "4 matches in 7 stored articles · showing 1–4 · nothing was saved")
    chrome.get(base + "/search?q=putin&size=2")  # two a page, to page through
    assert one(chrome, "#result-count").text == (
        "4 matches in 7 stored articles · showing 1–2 · nothing was saved")
    first = [r.find_element("css selector", "a").text for r in css(chrome, "tr.result")]
    shot(chrome, shots, "search")
    click(chrome, chrome.find_element("link text", "next →"))
    assert one(chrome, "#result-count").text.endswith("showing 3–4 · nothing was saved")
    second = [r.find_element("css selector", "a").text for r in css(chrome, "tr.result")]
    assert len(first) == len(second) == 2 and not set(first) & set(second)
    assert "European shares slip as tariff threats and Russian gas duties weigh" in second
    assert len(css(chrome, "svg rect.bar")) == 14


def test_search_header_box(chrome: Any, base: str) -> None:
    chrome.get(base + "/feeds")
    box = one(chrome, "header input[name=q]")
    box.send_keys('title:"new york post"')
    click(chrome, box.find_element("xpath", "..").find_element("css selector", "button"))
    assert one(chrome, "#result-count").text.startswith("1 match in 7 stored articles")
    assert one(chrome, "tr.result a").text == (
        "Trump tells New York Post he spoke with Putin by phone")


def test_bad_query_and_file_reads_get_a_clear_message(chrome: Any, base: str) -> None:
    chrome.get(base + "/search?q=" + "title:(trump")
    assert one(chrome, "#query-error").text == (
        "bad query: unexpected end of the query: a parenthesis or quote is not closed, or an "
        "operator has nothing after it.")
    # The query language has no way to name a file; an attempt is a query error and the
    # file's content never reaches the page.
    hostname = Path("/etc/hostname").read_text().strip()
    chrome.get(f"{base}/topics/{TOPIC}?q=" + "read_text('/etc/hostname')")
    assert one(chrome, "#query-error").text.startswith("bad query: unexpected end of the query")
    assert hostname not in chrome.find_element("css selector", "main").text


def test_page_connections_are_sandboxed(cfg: Path) -> None:
    from warehouse import db

    with db.web_reader(cfg.parent / "nw.duckdb", 5) as con:
        with pytest.raises(duckdb.PermissionException, match=(
                r'Cannot access file "/etc/hostname" - file system operations are disabled '
                r"by configuration")):
            con.execute("SELECT * FROM read_text('/etc/hostname')")
        with pytest.raises(duckdb.InvalidInputException, match="configuration has been locked"):
            con.execute("SET enable_external_access = true")


def test_unknown_pages_say_so(chrome: Any, base: str) -> None:
    chrome.get(base + "/topics/no-such-topic")
    assert one(chrome, "#problem").text == (
        f"No topic named 'no-such-topic' in the topics file or the warehouse (topics: {TOPIC}).")
    chrome.get(base + "/stories/nope")
    assert one(chrome, "#problem").text.startswith("No story 'nope' in the warehouse.")


def test_foreign_host_and_origin_are_refused(base: str) -> None:
    r = httpx.get(base + "/", headers={"Host": "rebound.example"})
    assert (r.status_code, r.text) == (400, "Invalid host header")
    r = httpx.post(f"{base}/topics/{TOPIC}/label", data={"article_id": "x", "label": "1"},
                   headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "posted from another site" in r.text


def test_host_warning_on_all_interfaces(cfg: Path) -> None:
    proc = start_web(cfg, "--host", "0.0.0.0", "--port", str(free_port()))
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
    finally:
        proc.terminate()
        proc.wait(10)
    assert line.startswith("warning: newswatch web has no login. Bound to 0.0.0.0, anyone who "
                           "can reach this machine can read the warehouse and add labels.")


def test_pages_never_hold_the_file(chrome: Any, base: str, cfg: Path) -> None:
    """Between page loads the file is free for a writer; a page waits out a writer's hold."""
    path = cfg.parent / "nw.duckdb"
    chrome.get(base + "/feeds")
    chrome.get(base + "/search?q=putin")
    # A writer opens the file at once (DuckDB refuses while any reader holds it) and commits
    # a write, so the page's kept reads no longer hold.
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE held_by_test AS SELECT 1 AS x; DROP TABLE held_by_test")
    released = threading.Timer(1.0, con.close)
    started = time.monotonic()
    released.start()
    chrome.get(base + "/feeds")  # the page retries until the writer lets go
    waited = time.monotonic() - started
    released.join()
    assert len(css(chrome, "#feeds tr.feed")) == 4 and 0.9 <= waited < 5
    # A whole ingest between two page loads, then the new run is on the page.
    asyncio.run(ingest(str(cfg), all_feeds=True))
    chrome.get(base + "/feeds")
    assert len(css(chrome, "#runs-chart svg g.bar")) == 2


@pytest.mark.parametrize("query", [
    "putin", "trump AND NOT putin", "talk*", '"new york post"', 'outlet:"Capital Wire"',
    "domain:capitalwire.example", "lang:en", "-trump putin", "ukraine OR inflation",
    "title:(central bank)", "dying OR stopped", "2022", '"trump putin"~12 AND call*',
    "-(ukraine) AND (rates OR chess)", "путин OR kremlin"])
def test_search_finds_what_topics_test_finds(cfg: Path, query: str) -> None:
    from newswatch.config import load_config
    from newswatch.search import search
    from tasks.backfill import try_query

    config = load_config(cfg)
    want = try_query(config, query, limit=1000)
    got = search(config.warehouse_path, 5, query)
    assert got.searched == want.searched == 7
    assert sorted((h.article_id, h.score, h.snippet) for h in got.hits) == sorted(
        (row["article_id"], score, snippet) for score, row, snippet, _ in want.top)


def test_topic_query_search_finds_what_topics_test_finds(cfg: Path) -> None:
    from newswatch.config import load_config
    from newswatch.search import search
    from tasks.backfill import try_query
    from tasks.labels import model_for

    config = load_config(cfg)
    [topic] = config.topics
    model = model_for(config, topic)
    want = try_query(config, topic.query, topic.aliases, topic.min_score, 1000, model)
    got = search(config.warehouse_path, 5, topic.query, topic.aliases, topic.min_score, model)
    assert [(h.article_id, h.probability) for h in got.hits] == [
        (r["article_id"], p) for _, r, _, p in want.top]
    assert (len(got.hits), got.relevant) == (want.matched, want.relevant)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`newswatch web` over a generated warehouse: 4,000 articles in 400 stories, 60 days."""
    from tests.generated import TOPICS_TOML, generate

    tmp = tmp_path_factory.mktemp("big")
    generate(tmp / "nw.duckdb", 4000, 400, days=60)
    (tmp / "topics.toml").write_text(TOPICS_TOML, encoding="utf-8")
    (tmp / "feeds.toml").write_text("", encoding="utf-8")
    cfg = tmp / "newswatch.toml"
    cfg.write_text('[warehouse]\npath = "nw.duckdb"\n[sources]\nfeeds = "feeds.toml"\n'
                   'topics = "topics.toml"\n', encoding="utf-8")
    yield from serving(cfg)


def test_generated_warehouse_pages(chrome: Any, big: str) -> None:
    from tests.generated import TOPIC

    # Every 20th article matches: 200 articles; their stories are every 20th of 400: 20.
    chrome.get(big + "/")
    section = one(chrome, f"#topic-{TOPIC}")
    assert (section.find_element("css selector", ".matches").text,
            section.find_element("css selector", ".stories").text) == ("200", "20")
    bars = values(chrome, f"#topic-{TOPIC} svg rect.bar")
    # The last 30 days (today is the 30th) hold articles 2067 to 3999 of the 60 days before
    # today: every 20th from 2080 matches.
    assert len(bars) == 30 and sum(bars) == 96
    chrome.get(f"{big}/topics/{TOPIC}")
    assert (one(chrome, "#n-matches").text, one(chrome, "#n-stories").text) == ("200", "20")
    assert len(css(chrome, "article.story")) == 20 and not css(chrome, ".pages")
    bars = values(chrome, "#attention svg rect.bar")
    assert len(bars) == 60 and sum(bars) == 200  # one bar a day of the 60
    chrome.get(f"{big}/topics/{TOPIC}?range=30d")
    assert sum(values(chrome, "#attention svg rect.bar")) == 96
    # The feeds page: the five failing feeds first, with their reason.
    chrome.get(big + "/feeds")
    rows = css(chrome, "#feeds tr.feed")
    assert len(rows) == 50
    assert [r.find_element("css selector", ".reason").text for r in rows[:6]] == [
        "http_503"] * 5 + ["parsed"]
    assert len(css(chrome, "#runs-chart svg g.bar")) == 15
    # Search pages through the 200 matches, 20 a page.
    chrome.get(big + "/search?q=zeppelin")
    assert one(chrome, "#result-count").text == (
        "200 matches in 4000 stored articles · showing 1–20 · nothing was saved")
    click(chrome, chrome.find_element("link text", "next →"))
    assert one(chrome, "#result-count").text.endswith("showing 21–40 · nothing was saved")
    chrome.get(big + "/search?q=zeppelin&page=10")
    assert one(chrome, "#result-count").text.endswith("showing 181–200 · nothing was saved")
    assert not chrome.find_elements("link text", "next →")


def labels_file(cfg: Path) -> Path:
    from newswatch.config import load_config
    from tasks.labels import labels_path

    return labels_path(load_config(cfg), TOPIC)


def seed_match(chrome: Any, base: str) -> tuple[str, Any]:
    chrome.get(f"{base}/topics/{TOPIC}")
    [match] = [m for m in css(chrome, ".match") if SEED_TITLE in m.text]
    return match.get_attribute("id").removeprefix("m-"), match


def test_relevant_click_stores_one_example(chrome: Any, base: str, cfg: Path) -> None:
    file = labels_file(cfg)
    before = file.read_text(encoding="utf-8").splitlines() if file.exists() else []
    article_id, match = seed_match(chrome, base)
    click(chrome, match.find_element("css selector", "button.yes"))
    assert one(chrome, "#label-notice").text == (
        f"Saved: relevant example for {TOPIC} (article {article_id}).")
    lines = file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(before) + 1
    stored = json.loads(lines[-1])
    assert (stored["id"], stored["label"], stored["by"], stored["source"], stored["title"]) == (
        article_id, "yes", "web", "warehouse", SEED_TITLE)
    assert chrome.current_url.endswith(f"#m-{article_id}")


def test_label_given_while_a_writer_holds_the_file_lands(chrome: Any, base: str,
                                                         cfg: Path) -> None:
    file = labels_file(cfg)
    before = file.read_text(encoding="utf-8").splitlines() if file.exists() else []
    article_id, match = seed_match(chrome, base)
    con = duckdb.connect(str(cfg.parent / "nw.duckdb"))  # an ingest's write, for a second
    released = threading.Timer(1.0, con.close)
    released.start()
    click(chrome, match.find_element("css selector", "button.no"))
    released.join()
    assert one(chrome, "#label-notice").text == (
        f"Saved: not relevant example for {TOPIC} (article {article_id}).")
    lines = file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(before) + 1
    assert (json.loads(lines[-1])["id"], json.loads(lines[-1])["label"]) == (article_id, "no")


def test_label_for_an_unknown_article_says_so(base: str, cfg: Path) -> None:
    r = httpx.post(f"{base}/topics/{TOPIC}/label", data={"article_id": "nope", "label": "1"},
                   follow_redirects=True)
    assert r.status_code == 200 and "no article &#39;nope&#39; in" in r.text


READER_LOOP = """
import sys, time
from pathlib import Path
from warehouse import db
path, until = Path(sys.argv[1]), time.monotonic() + float(sys.argv[2])
print("reading", flush=True)
while time.monotonic() < until:
    with db.web_reader(path, 30) as con:
        con.execute("SELECT count(*) FROM articles").fetchall()
        time.sleep(0.05)  # a page's queries
"""


def test_readers_in_a_loop_cannot_keep_a_writer_out(tmp_path: Path) -> None:
    """Two processes open the file read-only one connection after another, overlapping, so
    it is never free; a writer still gets in as soon as the reads in flight are done."""
    from warehouse import db

    path = tmp_path / "nw.duckdb"
    db.migrate(path)
    readers = [subprocess.Popen([sys.executable, "-c", READER_LOOP, str(path), "8"],
                                stdout=subprocess.PIPE, text=True, cwd=ROOT) for _ in range(2)]
    try:
        for r in readers:
            assert r.stdout is not None and r.stdout.readline() == "reading\n"
        time.sleep(1.0)
        waits = []
        for _ in range(5):
            started = time.monotonic()
            with db.transaction(path, wait_s=5) as con:
                con.execute("INSERT INTO schema_migrations VALUES (?, now())",
                            [f"test-{len(waits)}"])
            waits.append(time.monotonic() - started)
            time.sleep(0.2)
    finally:
        for r in readers:
            r.wait(15)
    assert max(waits) < 1.0, waits
    assert all(r.returncode == 0 for r in readers)
