"""What an extraction worker runs: one page's bytes to its article text, metadata and story
features. Kept apart from the stages so a worker process imports only this and what it needs
(trafilatura, our charset rules, the tokeniser, numpy) — not Prefect, not the warehouse.
`python -X importtime -c "import tasks.pagetext"` shows the list.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import trafilatura

from tasks.encoding import decode
from tasks.features import StoryFeatures, content_hash, story_features
from tasks.topics import tokens

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


def extract_page(url: str, body: bytes, min_chars: int, content_type: str | None = None,
                 features: tuple[int, int] | None = None) -> PageText:
    """Extract one page; with `features` = (MinHash permutations, LSH bands) also compute the
    article's story features. The text is tokenised once for the features and the hash."""
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
    words = tokens(text)
    return PageText(
        "ok", "extracted", title=title, text=text, author=doc.author, date=doc.date,
        sitename=doc.sitename, canonical=canonical,
        language=lang.group(1).decode().lower() if lang else doc.language, elapsed_ms=ms,
        features=story_features(title or "", text, *features, words) if features else None,
        content_hash=content_hash(text, words),
    )


def extract_job(args: tuple[str, bytes, int, str | None, tuple[int, int] | None]) -> PageText:
    """The worker's entry point (one picklable argument)."""
    return extract_page(*args)


def warm_up() -> None:
    """Run once in each worker as it starts: the first extraction builds trafilatura's and
    lxml's lazy state, which would otherwise land on the first real page."""
    extract_page("http://127.0.0.1/", b"<html><body><article><p>" + b"warm words " * 40
                 + b"</p></article></body></html>", 1, None, (8, 2))
