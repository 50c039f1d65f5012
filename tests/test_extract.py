"""Extraction: the fixture pages say what they expect; the real-page corpus gives a floor."""

from __future__ import annotations

import json
import statistics
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest

from newswatch.config import load_config
from tasks import readability_gate
from tasks.extract import extract_page, extract_pages
from tasks.models import Entry, FetchResult, PageFetch
from tests.conftest import FIXTURE, ROOT, fixture_expectations
from tests.corpus import corpus_dir, html_text, token_f1

EXPECT = fixture_expectations()
BOILERPLATE = ["Home", "Related stories", "All rights reserved", "Accept all", "Most read",
               "Comments are closed", "Advertisement", "Read more", "Sign up now", "Share this",
               "Topics:", "DOW 44,303", "Morning Briefing", "Privacy"]


@pytest.mark.parametrize("path", sorted(EXPECT))
def test_fixture_page_extracts_clean(path: str) -> None:
    exp = EXPECT[path]
    page = extract_page(f"http://127.0.0.1/{path}", (FIXTURE / path).read_bytes(), 250)
    assert page.status == "ok"
    assert page.title == exp["title"]
    assert page.sitename == exp["outlet"]
    assert page.date == exp["published"][:10]
    assert page.canonical == exp["canonical_url"]
    assert page.language == "en"
    paragraphs = page.text.split("\n")
    assert len(paragraphs) == exp["paragraphs"]
    assert paragraphs[0].startswith(exp["text_starts"])
    assert paragraphs[-1].endswith(exp["text_ends"])
    for bad in BOILERPLATE + exp["must_not_contain"]:
        assert bad not in page.text, bad


def _entry(summary: str | None) -> Entry:
    return Entry("http://127.0.0.1/x", "http://127.0.0.1/feed", None, "Feed title", summary,
                 datetime(2025, 2, 9, tzinfo=UTC), "Outlet")


def _page(body: bytes, summary: str | None) -> PageFetch:
    fetch = FetchResult("http://127.0.0.1/x", "ok", "http_200", datetime.now(UTC), body=body)
    return PageFetch(_entry(summary), fetch)


def test_no_article_falls_back_to_the_feed_summary() -> None:
    cfg = load_config(ROOT / "newswatch.toml")
    nav = b"<html><body><nav>Home</nav><p>short</p></body></html>"
    summary = "A summary long enough to stand in for the article text."
    [with_summary, without] = extract_pages(cfg, [_page(nav, summary), _page(nav, "teaser")])
    assert (with_summary.status, with_summary.reason, with_summary.method) == (
        "fallback", "too_short_used_summary", "feed_summary")
    assert with_summary.text == summary
    assert with_summary.title == "Feed title"
    assert (without.status, without.reason, without.text) == ("no_article", "too_short", None)


def test_garbage_bytes_are_recorded_not_raised() -> None:
    page = extract_page("http://127.0.0.1/x", b"\xff\xfe\x00<<<>>>\x00" * 50, 250)
    assert (page.status, page.reason) == ("no_article", "no_text")


def test_process_pool_gives_the_same_result(tmp_path: Path) -> None:
    """Large batches go to worker processes; what comes back must not differ."""
    cfg = load_config(ROOT / "newswatch.toml")
    pages = [_page((FIXTURE / p).read_bytes(), None) for p in sorted(EXPECT)] * 4
    inline = extract_pages(cfg, pages[:1])
    pooled = extract_pages(cfg, pages)  # 28 pages >= pool_threshold 24
    assert len(pooled) == 28
    assert replace(pooled[0], elapsed_ms=0) == replace(inline[0], elapsed_ms=0)
    assert pooled[7].title == pooled[0].title


def test_an_extraction_worker_imports_only_what_extraction_needs() -> None:
    """Workers fork from a server that imported tasks.pagetext and tasks.parse alone: not
    Prefect, not the warehouse, not datasketch/scipy (measured: ~0.5 s of imports instead of
    ~3 s)."""
    import subprocess
    import sys

    from tasks.extract import WORKER_MODULES

    assert WORKER_MODULES == ["tasks.worker_boot"]
    out = subprocess.run([sys.executable, "-X", "importtime", "-c",
                          "import " + ", ".join(WORKER_MODULES)],
                         cwd=ROOT, capture_output=True, text=True, check=True).stderr
    modules = {line.split("|")[-1].strip().split(".")[0] for line in out.splitlines()
               if line.startswith("import time:") and "|" in line}
    assert {"trafilatura", "feedparser", "tasks"} <= modules
    assert not modules & {"prefect", "duckdb", "pyarrow", "datasketch", "scipy", "warehouse",
                          "flows", "httpx", "apprise"}


def test_a_worker_starts_warm_without_what_the_runs_main_module_imports(tmp_path: Path
                                                                        ) -> None:
    """A run's main module is the `newswatch` script, which imports the CLI. Its workers fork
    from a forkserver that imported it once and built extraction's lazy state (jusText's
    stoplists, 0.15 s on a worker's first short page otherwise): a worker has them before its
    first page, and no duckdb or pyarrow (~30 MB and ~60 ms a worker, measured)."""
    import subprocess
    import sys

    main = tmp_path / "main.py"
    main.write_text(f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from newswatch.cli import main  # as the `newswatch` script does


def probe(_):
    import trafilatura.external as te
    return [sorted(m for m in ("duckdb", "pyarrow", "prefect") if m in sys.modules),
            len(te.JT_STOPLIST or ()) > 100_000, "newswatch.cli" in sys.modules]


if __name__ == "__main__":
    from tasks.extract import start_forkserver, start_pool
    start_forkserver().join()
    pool = start_pool(1)
    print(pool.submit(probe, 0).result())
    pool.shutdown()
""")
    out = subprocess.run([sys.executable, str(main)], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout
    assert out == "[[], True, True]\n"


def test_a_worker_hands_freed_memory_back_once_it_has_grown_past_the_slack() -> None:
    """In a fresh process set up as a worker: 48 MB freed with every tenth block still held
    (glibc cannot give it back by itself) is handed back at the next page's end; 4 MB more is
    under TRIM_SLACK and is not (trimming after every page cost 14 % of the pages/s)."""
    import json
    import subprocess
    import sys

    code = """
import json, os
from tasks import pagetext as pt
pt.start_worker(os.getpid())
def churn(n):  # n 4-KB blocks through glibc's heap, every tenth kept
    blocks = [bytearray(4096) for _ in range(n)]
    return blocks[::10]
kept = churn(12_000)
grown = pt._rss()
pt._trim_if_grown()
trimmed = pt._rss()
kept += churn(1_000)
small = pt._rss()
pt._trim_if_grown()
print(json.dumps({"handed_back": grown - trimmed > 32 << 20,
                  "small_grew": small - trimmed > 3 << 20,
                  "small_kept": abs(pt._rss() - small) < 1 << 20}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out) == {"handed_back": True, "small_grew": True, "small_kept": True}


def test_process_pool_extracts_pages_as_they_arrive(tmp_path: Path) -> None:
    """The run's extractor: pages submitted one by one to workers started once."""
    import asyncio

    from tasks.extract import Extractor

    cfg = load_config(ROOT / "newswatch.toml")
    pages = [_page((FIXTURE / p).read_bytes(), None) for p in sorted(EXPECT)] * 4

    async def run() -> list:
        with Extractor(cfg, len(pages)) as ex:
            assert ex.pool is not None and ex.workers >= 1
            return list(await asyncio.gather(*(ex.extract(p) for p in pages)))

    got = asyncio.run(run())
    assert [replace(x, elapsed_ms=0) for x in got] == [
        replace(x, elapsed_ms=0) for x in extract_pages(cfg, pages)]
    assert all(x.content_hash and x.features for x in got if x.status == "ok")


def test_readability_corpus_quality() -> None:
    """Token F1 against the expected article of 130 real pages (Mozilla Readability's
    test set). Measured 2026-11 on 122 readerable pages: median 0.983, mean 0.924; the
    floor guards against regressions."""
    root = corpus_dir("extraction", "readability-pages", "test", "test-pages")
    scores = []
    for d in sorted(root.iterdir()):
        meta = json.loads((d / "expected-metadata.json").read_text(encoding="utf-8"))
        if not meta.get("readerable", True):
            continue
        expected = html_text((d / "expected.html").read_text(encoding="utf-8"))
        got = extract_page(f"http://example.com/{d.name}", (d / "source.html").read_bytes(), 1)
        scores.append(token_f1(got.text or "", expected)[2])
    assert len(scores) >= 100
    assert statistics.median(scores) >= 0.95
    assert statistics.mean(scores) >= 0.88


def test_feeds_parse_in_the_workers_as_they_do_in_process() -> None:
    """A run's feeds parse in its extraction workers: the same polls as in-process, each
    without the feed's bytes (nothing after parsing reads them) but with their size."""
    import asyncio

    from tasks.extract import Extractor
    from tasks.models import FeedState
    from tasks.parse import parse_feeds
    from tests.simulator import rss

    def fetched(n: int, body: bytes) -> tuple[FeedState, FetchResult]:
        url = f"http://example.org/{n}.xml"
        return (FeedState(url, f"f{n}", "O", False),
                FetchResult(url=url, status="ok", reason="http_200",
                            fetched_at=datetime(2025, 2, 10, tzinfo=UTC), body=body,
                            headers={"content-type": "application/rss+xml"}))

    feeds = [fetched(n, rss(f"f{n}", [(f"story {k}", f"http://example.org/{n}/{k}.html")
                                      for k in range(n % 7)])) for n in range(40)]
    feeds += [fetched(40, b"<html><p>not a feed"), fetched(41, b"{\"version\": 1}")]
    feeds.append((FeedState("http://example.org/x.xml", "x", "O", False),
                  FetchResult(url="http://example.org/x.xml", status="temp", reason="timeout",
                              fetched_at=datetime(2025, 2, 10, tzinfo=UTC))))
    inline = parse_feeds(feeds)
    cfg = load_config(ROOT / "newswatch.toml")  # pool_threshold 24
    with Extractor(cfg, 0) as ex:
        asyncio.run(ex.ensure(23))
        assert (ex.workers, ex.feed_pool) == (0, None)  # too few pages for workers
        asyncio.run(ex.ensure(24))
        assert ex.workers >= 1 and ex.feed_pool is not None
        pooled = parse_feeds(feeds, ex.feed_pool)
    assert [p.fetch.body for p in pooled] == [b""] * 43
    assert [p.fetch.size for p in pooled] == [len(f.body) for _, f in feeds]
    assert pooled == [replace(p, fetch=replace(p.fetch, body=b"", body_bytes=len(p.fetch.body)))
                      if p.fetch.body else p for p in inline]
    assert sum(len(p.entries) for p in pooled) == sum(n % 7 for n in range(40)) == 115
    assert [(p.status, p.reason) for p in pooled[40:]] == [
        ("soft", "not_a_feed"), ("soft", "not_a_json_feed"), ("temp", "timeout")]


def test_the_readability_bound_counts_every_text_node_but_scripts_and_styles() -> None:
    tree = lxml.html.fromstring(
        "<html><body><p>one  two\n three</p><script>var x = 1;</script> tail <style>p{}</style>"
        "<!-- a comment --><div>four<b>five</b> six</div>"
        '<iframe src="https://www.youtube.com/embed/x"></iframe></body></html>')
    # "one two three" 13+1, " tail " 4+1, "four" 4+1, "five" 4+1, " six" 3+1; not the
    # script's, the style's or the comment's; "VIDEO" 5+1, which readability writes into a
    # video's iframe
    assert readability_gate.text_bound(tree) == 39


def test_skipping_readability_where_it_cannot_win_changes_no_text() -> None:
    """Over the corpus's 130 real pages (on ~60 % of them readability is skipped), the text,
    title and features are those of trafilatura with its readability fallback."""
    root = corpus_dir("extraction", "readability-pages", "test", "test-pages")
    pages = [(d.name, (d / "source.html").read_bytes()) for d in sorted(root.iterdir())]
    url = "http://example.com/{}"
    before = dict(readability_gate.counts)
    gated = [extract_page(url.format(n), b, 1, None, (64, 16)) for n, b in pages]
    readability_gate.uninstall()
    try:
        plain = [extract_page(url.format(n), b, 1, None, (64, 16)) for n, b in pages]
    finally:
        assert readability_gate.install()
    assert [replace(x, elapsed_ms=0) for x in gated] == [replace(x, elapsed_ms=0) for x in plain]
    assert sum(x.status == "ok" for x in gated) >= 120
    compared, skipped = (readability_gate.counts[k] - before[k] for k in ("compared", "skipped"))
    assert compared >= 130 and skipped >= 0.5 * compared
