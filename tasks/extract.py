"""Stage 6: article text and metadata from fetched pages, with trafilatura.

trafilatura is CPU-bound, so a large batch goes to a process pool (the GIL would serialise
threads); a small one runs in-process, because starting workers costs more than it saves.
A page with no article (trafilatura returns boilerplate, or too little text) falls back to the
feed's summary when there is one, and the outcome says so.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import trafilatura

from newswatch.config import Config
from tasks import stage
from tasks.encoding import decode
from tasks.features import StoryFeatures, story_features
from tasks.feed_content import extract_feed_content, from_feed
from tasks.models import Extraction, PageFetch

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


def extract_page(url: str, body: bytes, min_chars: int, content_type: str | None = None,
                 features: tuple[int, int] | None = None) -> PageText:
    """Extract one page; with `features` = (MinHash permutations, LSH bands) also compute the
    article's story features."""
    started = time.monotonic()
    html = decode(body, content_type).text  # our charset rules, not trafilatura's guess
    try:
        doc = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, include_tables=False,
        )
    except Exception:  # trafilatura raises many kinds on hostile input; record it, go on
        return PageText("failed", "extractor_error")
    ms = int((time.monotonic() - started) * 1000)
    if doc is None or not doc.text:
        return PageText("no_article", "no_text", elapsed_ms=ms)
    title = (doc.title or "").strip() or None
    text = doc.text.strip()
    first, _, rest = text.partition("\n")
    if title and first.strip() == title:  # trafilatura keeps the headline as the first line
        text = rest.strip()
    if len(text) < min_chars:
        return PageText("no_article", "too_short", elapsed_ms=ms)
    lang = _HTML_LANG.search(body[:4096])
    canonical = doc.url if doc.url and doc.url.startswith(("http://", "https://")) else None
    return PageText(
        "ok", "extracted", title=title, text=text, author=doc.author, date=doc.date,
        sitename=doc.sitename, canonical=canonical,
        language=lang.group(1).decode().lower() if lang else doc.language, elapsed_ms=ms,
        features=story_features(title or "", text, *features) if features else None,
    )


def _extract_star(args: tuple[str, bytes, int, str | None, tuple[int, int]]) -> PageText:
    return extract_page(*args)


def _page_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None


def extract_pages(cfg: Config, pages: list[PageFetch]) -> list[Extraction]:
    ok = [p for p in pages if p.fetch.ok and not from_feed(p.entry)]
    perm = (cfg.stories.minhash_perm, cfg.stories.lsh_bands)
    jobs = [(p.fetch.final_url or p.entry.entry_url, p.fetch.body, cfg.extract.min_article_chars,
             p.fetch.headers.get("content-type"), perm) for p in ok]
    if len(jobs) >= cfg.extract.pool_threshold:
        workers = cfg.extract.workers or os.cpu_count() or 1
        # spawn, not fork: the flow process runs threads (Prefect's), and fork copies their locks.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            texts = list(pool.map(_extract_star, jobs, chunksize=8))
    else:
        texts = [extract_page(*j) for j in jobs]
    return ([_to_extraction(cfg, p, t) for p, t in zip(ok, texts, strict=True)]
            + [extract_feed_content(cfg, p) for p in pages if from_feed(p.entry)])


def _to_extraction(cfg: Config, page: PageFetch, t: PageText) -> Extraction:
    e = page.entry
    url = page.fetch.final_url or e.entry_url
    if t.status != "ok":
        summary = e.summary or ""
        if len(summary) >= cfg.extract.min_summary_chars:
            return Extraction(
                entry=e, status="fallback", reason=f"{t.reason}_used_summary", url=url,
                title=e.title, text=summary, published_at=e.published_at, outlet=e.outlet,
                method="feed_summary", elapsed_ms=t.elapsed_ms,
            )
        return Extraction(entry=e, status=t.status, reason=t.reason, url=url,  # type: ignore[arg-type]
                          elapsed_ms=t.elapsed_ms)
    return Extraction(
        entry=e, status="ok", reason=t.reason, url=url, canonical_url=t.canonical,
        title=t.title or e.title, text=t.text, author=t.author,
        published_at=e.published_at or _page_date(t.date), language=t.language,
        outlet=t.sitename or e.outlet, method="trafilatura", elapsed_ms=t.elapsed_ms,
        features=t.features,
    )


@stage("extract")
def extract_pages_task(cfg: Config, pages: list[PageFetch]) -> list[Extraction]:
    return extract_pages(cfg, pages)
