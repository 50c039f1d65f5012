"""The committed fixture is what seeds/build_fixture.py builds from the seed, and each feed
lists what it says it lists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import feedparser
import pytest

from tests.conftest import FIXTURE, ROOT, fixture_expectations

SEED = ROOT.parent / "shared" / "seed" / "000_b6bb972f326920af.txt"


def test_committed_fixture_matches_the_builder() -> None:
    if not SEED.exists():
        pytest.skip(f"the seed article {SEED} is missing (../shared is not beside the repo)")
    import importlib.util
    import sys

    path = ROOT / "seeds" / "build_fixture.py"
    spec = importlib.util.spec_from_file_location("build_fixture", path)
    assert spec and spec.loader
    builder = importlib.util.module_from_spec(spec)
    sys.modules["build_fixture"] = builder  # dataclasses look their module up there
    spec.loader.exec_module(builder)
    built = builder.build(SEED)
    committed = {p.relative_to(FIXTURE).as_posix(): p.read_text(encoding="utf-8")
                 for p in FIXTURE.rglob("*") if p.is_file()}
    assert built == committed


@pytest.mark.parametrize("feed", sorted(p.name for p in (FIXTURE / "feeds").iterdir()))
def test_feed_lists_what_it_says(feed: str) -> None:
    raw = (FIXTURE / "feeds" / feed).read_bytes()
    expected = json.loads(re.search(rb"<!-- newswatch-fixture (.*?) -->", raw).group(1))
    parsed = feedparser.parse(raw)
    assert parsed.bozo == 0
    assert len(parsed.entries) == expected["entries"]
    pages = set(fixture_expectations())
    for e in parsed.entries:
        assert e.link.removeprefix("../") in pages


def test_fixture_roles() -> None:
    roles = sorted(e["role"] for e in fixture_expectations().values())
    assert roles == ["names-both-no-contact", "seed", "syndicated-extra-paragraph",
                     "syndicated-trimmed", "unrelated", "unrelated", "unrelated"]
    outlets = {e["outlet"] for e in fixture_expectations().values() if e["topics"]}
    assert outlets == {"The Daily Meridian", "Northern Ledger", "Capital Wire"}


def test_seed_text_is_in_the_seed_page() -> None:
    if not SEED.exists():
        pytest.skip(f"the seed article {SEED} is missing (../shared is not beside the repo)")
    page = next(p for p, e in fixture_expectations().items() if e["role"] == "seed")
    html = (FIXTURE / page).read_text(encoding="utf-8")
    body = SEED.read_text(encoding="utf-8").split("\n\n")[1].strip()
    assert body.replace('"', "&quot;").replace("'", "&#x27;") in html


def test_nothing_from_the_corpus_is_committed() -> None:
    assert not (ROOT / "corpus").exists()
    assert not list(Path(ROOT).glob("**/basil_articles.jsonl"))
