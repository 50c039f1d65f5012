"""Feed conformance over the shared corpus (bench/feed_conformance.py prints the full table):
every feedparser test feed that feedparser passes on its own also passes through our fetch and
parse path, and every Miniflux charset case reads without mojibake."""

from __future__ import annotations

import sys

from tests.conftest import ROOT
from tests.corpus import corpus_dir

sys.path.insert(0, str(ROOT / "bench"))

from feed_conformance import charset_cases, feedparser_cases


def test_every_case_feedparser_passes_also_passes_through_our_path() -> None:
    alone, ours, total, regressions = feedparser_cases(
        corpus_dir("feeds", "feedparser-cases"), show=False)
    assert regressions == []
    assert sum(total.values()) == 2096  # the cases whose guard holds on this Python
    assert sum(ours.values()) >= sum(alone.values())
    assert ours["encoding"] == total["encoding"] == 82


def test_charset_cases_read_without_mojibake() -> None:
    rows = charset_cases(corpus_dir("feeds", "charset-cases"))
    assert len(rows) == 22
    assert [rel for rel, _alone, ours in rows if not ours] == []
