"""What an extraction worker runs: one page's bytes to its article text, metadata and story
features. Kept apart from the stages so a worker process imports only this and what it needs
(trafilatura, our charset rules, the tokeniser, numpy) — not Prefect, not the warehouse.
`python -X importtime -c "import tasks.pagetext"` shows the list.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, set_date_params
from trafilatura.utils import load_html

from tasks import readability_gate
from tasks.encoding import decode
from tasks.features import StoryFeatures, content_hash, story_features
from tasks.topics import tokens

readability_gate.install()  # the same text, without readability where it cannot win

_HTML_LANG = re.compile(rb"<html[^>]*?\slang\s*=\s*[\"']?([A-Za-z]{2,3})", re.I)


@dataclass(frozen=True)
class PageText:
    """What the worker process sends back: plain values, cheap to pickle."""

    status: str
    reason: str
    title: str | None = None
    text: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None
    canonical: str | None = None
    language: str | None = None
    elapsed_ms: int = 0
    features: StoryFeatures | None = None  # computed here, in parallel, for the stories stage
    content_hash: str | None = None  # of `text`, for dedup


def page_metadata(tree: HtmlElement, url: str, need_date: bool) -> Document:
    """The metadata we store, the way trafilatura's extract_metadata finds it (meta tags, then
    JSON-LD, then the page's title and canonical link), without the parts we do not use:
    categories, tags, licence, and the author heuristics over the body's markup (authors come
    from the page's metadata). The date is looked for only when the feed gave none. Together
    these were half of the extraction's time (tests/test_extract.py keeps the titles, dates,
    canonical URLs and sites of the fixture and the corpus right)."""
    md = examine_meta(tree)
    if md.author and " " not in md.author:  # as trafilatura: one word is rarely a name
        md.author = None
    # Broken JSON-LD is common in the wild: the meta tags' values then stand.
    with contextlib.suppress(ValueError, TypeError, KeyError, IndexError, AttributeError):
        md = extract_meta_json(tree, md)
    if not md.title:
        md.title = extract_title(tree)
    if not md.url:
        md.url = extract_url(tree, url)
    if need_date:
        md.date = find_date(tree, **set_date_params(True), url=md.url)
    if not md.sitename:
        md.sitename = extract_sitename(tree)
    if md.sitename:
        md.sitename = md.sitename.lstrip("@")
        if md.sitename and "." not in md.sitename and not md.sitename[0].isupper():
            md.sitename = md.sitename.title()
    elif md.url and (m := META_URL.match(md.url)):
        md.sitename = m[1]
    return md


def extract_page(url: str, body: bytes, min_chars: int, content_type: str | None = None,
                 features: tuple[int, int] | None = None, need_date: bool = True) -> PageText:
    """Extract one page; with `features` = (MinHash permutations, LSH bands) also compute the
    article's story features. The page is parsed once for the metadata and the text, and the
    text tokenised once for the features and the hash. `need_date`: the feed gave no date."""
    started = time.monotonic()
    html = decode(body, content_type).text  # our charset rules, not trafilatura's guess
    try:
        tree = load_html(html)
        if tree is None:
            return PageText("no_article", "no_text")
        md = page_metadata(tree, url, need_date)
        doc = trafilatura.bare_extraction(
            tree, url=url, include_comments=False, include_tables=False)
    except Exception:  # trafilatura raises many kinds on hostile input; record it, go on
        return PageText("failed", "extractor_error")
    ms = int((time.monotonic() - started) * 1000)
    if doc is None or not doc.text:
        return PageText("no_article", "no_text", elapsed_ms=ms)
    title = " ".join((md.title or "").split()) or None
    text = doc.text.strip()
    first, _, rest = text.partition("\n")
    if title and first.strip() == title:  # trafilatura keeps the headline as the first line
        text = rest.strip()
    if len(text) < min_chars:
        return PageText("no_article", "too_short", elapsed_ms=ms)
    lang = _HTML_LANG.search(body[:4096])
    canonical = md.url if md.url and md.url.startswith(("http://", "https://")) else None
    words = tokens(text)
    return PageText(
        "ok", "extracted", title=title, text=text, author=md.author, date=md.date,
        sitename=md.sitename, canonical=canonical,
        language=lang.group(1).decode().lower() if lang else md.language, elapsed_ms=ms,
        features=story_features(title or "", text, *features, words) if features else None,
        content_hash=content_hash(text, words),
    )


# A worker parses pages of 0.1-2 MB into lxml trees and frees them; glibc keeps the freed
# memory, so a worker's RSS settles ~40 MB above what it holds. Handing it back costs more than
# the call: the next pages fault it in again. Trimming after every page made two workers 14 %
# slower over 1,000 real pages (95.6 pages/s against 111.8 untrimmed), so a worker trims once
# its RSS has grown TRIM_SLACK past where the last trim left it: 111.0 pages/s, and the two
# workers ended at 240 MB against 187 (every page) and 265 (never); their peaks, ~270, alike.
TRIM_SLACK = 32 * 2**20
_trim: Any = None  # glibc's malloc_trim in a worker process; None elsewhere
_statm: int | None = None  # /proc/self/statm, open in a worker: its RSS in one read
_trimmed_at = 0  # the worker's RSS after its last trim


def _rss() -> int:
    assert _statm is not None
    return int(os.pread(_statm, 64, 0).split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _trim_if_grown() -> None:
    global _trimmed_at
    if _statm is None or _rss() > _trimmed_at + TRIM_SLACK:
        _trim(0)
        if _statm is not None:
            _trimmed_at = _rss()


def extract_job(args: tuple[str, bytes, int, str | None, tuple[int, int] | None, bool]
                ) -> PageText:
    """The worker's entry point (one picklable argument)."""
    try:
        return extract_page(*args)
    finally:
        if _trim is not None:
            _trim_if_grown()


def _exit_with(run_pid: int) -> None:
    while True:
        time.sleep(1.0)
        try:
            os.kill(run_pid, 0)
        except ProcessLookupError:
            os._exit(0)


# Two small pages that take extraction down each of its paths: the first keeps trafilatura's
# own text (and builds lxml's and the tokeniser's lazy state); the second, too short for it,
# goes on to readability and to jusText, whose stoplists (all of its languages, ~150,000
# words) trafilatura builds on first use. Unwarmed, that landed on a worker's first short page:
# 0.15 s (the readability pages, each once: the first pass 0.15-0.17 s slower than the second
# in a fresh process; warmed with these, no slower).
WARM_PAGES = (
    b"<html><body><article><p>" + b"warm words " * 40 + b"</p></article></body></html>",
    b"<html><head><title>t</title></head><body><div><p>Short words.</p></div><p>"
    + b"warm words " * 5 + b"</p></body></html>",
)


def warm() -> None:
    """Build extraction's lazy state now (~0.13 s), so that no page pays for it. Run once in
    the workers' forkserver (tasks/worker_boot.py): every worker forked from it inherits it."""
    for page in WARM_PAGES:
        extract_page("http://127.0.0.1/", page, 1, None, (8, 2))


def start_worker(run_pid: int) -> None:
    """Run once in each worker as it starts. A worker whose run was killed (kill -9) would
    wait for work forever, so it watches the run and exits with it. Extraction's lazy state
    it inherits, warm, from the forkserver (`warm`)."""
    global _trim, _statm, _trimmed_at
    threading.Thread(target=_exit_with, args=(run_pid,), daemon=True).start()
    _trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # glibc only; others skip it
    if _trim is not None:
        with contextlib.suppress(OSError):  # no /proc: trim after every page instead
            _statm = os.open("/proc/self/statm", os.O_RDONLY)
            _trim(0)
            _trimmed_at = _rss()
