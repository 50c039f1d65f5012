"""Skip trafilatura's readability fallback on pages where its result provably loses.

After its own extractor, trafilatura runs readability over the whole page (about a fifth of
its time on the shared readability pages) and takes readability's text only if it is more than
twice as long as its own, or its own has no paragraph text or more tables than paragraphs
(`trafilatura.external._prefer_readability`, balanced focus). Readability's text is made of the
page's own text nodes, less scripts and styles, plus the word it writes into each video iframe
it keeps, so it cannot be longer than their sum. When our own text is at least half that sum
and is made of paragraphs, readability cannot win: we skip it, and trafilatura goes on exactly
as if readability had lost (its justext rescue, its later stages). The text is the same, page
for page: tests/test_extract.py compares them over the corpus's real pages.

It patches two functions of trafilatura, only for the version it was proven against
(TRAFILATURA): on another version nothing is patched and extraction runs as trafilatura's.
"""

from __future__ import annotations

import threading
from typing import Any

import trafilatura
import trafilatura.core
import trafilatura.external
from lxml.html import HtmlElement

TRAFILATURA = "2.3.1"  # the version whose compare_extraction this reasons about
DROPPED = frozenset({"script", "style", "fencedframe"})  # readability drops these first
IFRAME_TEXT = "VIDEO"  # readability_lxml's sanitize() writes it into each video iframe it keeps

_skip = threading.local()
counts = {"compared": 0, "skipped": 0}  # this process's pages, for tests and benches
_compare = trafilatura.external.compare_extraction
_readability = trafilatura.external.try_readability


def text_bound(tree: HtmlElement) -> int:
    """An upper bound on the length of any text readability can make of `tree` (trimmed as
    trafilatura trims it): each text node's words, one space apart, plus one space; and the
    word readability writes into an iframe it keeps (a video's)."""
    n = 0
    for el in tree.iter():
        texts = (el.tail,) if el.tag in DROPPED or not isinstance(el.tag, str) else (
            el.text, el.tail)
        for t in texts:
            if t:
                n += len(" ".join(t.split())) + 1
        if el.tag == "iframe":
            n += len(IFRAME_TEXT) + 1
    return n


def readability_cannot_win(raw_tree: HtmlElement, body: Any, text: str) -> bool:
    """True when `_prefer_readability` is False whatever readability returns: our text is
    not empty, has paragraphs (no more tables than paragraphs) and is at least half of all
    the text readability could return."""
    return (bool(text) and bool(body.xpath(".//p//text()"))
            and len(body.findall(".//table")) <= len(body.findall(".//p"))
            and 2 * len(text) >= text_bound(raw_tree))


def _gated_compare(cleaned_tree: HtmlElement, raw_tree: HtmlElement, body: Any, text: str,
                   options: Any) -> Any:
    _skip.on = options.focus == "balanced" and readability_cannot_win(raw_tree, body, text)
    counts["compared"] += 1
    counts["skipped"] += _skip.on
    try:
        return _compare(cleaned_tree, raw_tree, body, text, options)
    finally:
        _skip.on = False


def _gated_readability(tree: HtmlElement) -> HtmlElement:
    # An empty result is what trafilatura's own try_readability returns when readability
    # fails; _prefer_readability then keeps trafilatura's text, as it would have here.
    return HtmlElement() if getattr(_skip, "on", False) else _readability(tree)


def install() -> bool:
    """Patch trafilatura (idempotent); False, and nothing patched, on another version."""
    if trafilatura.__version__ != TRAFILATURA:
        return False
    trafilatura.core.compare_extraction = _gated_compare  # type: ignore[assignment]
    trafilatura.external.try_readability = _gated_readability  # type: ignore[assignment]
    return True


def uninstall() -> None:
    trafilatura.core.compare_extraction = _compare  # type: ignore[assignment]
    trafilatura.external.try_readability = _readability  # type: ignore[assignment]
