"""The web search's SQL prefilter never drops an article the query language would match: every
word starts with the needle cut from its stem."""

from __future__ import annotations

import json

import pytest

from newswatch.search import needle, needles
from tasks.topics import parse_query, stem, tokens
from tests.conftest import FIXTURE
from tests.corpus import corpus_dir, html_text

# Words whose stems Snowball rewrites at the end, or irregularly.
TRICKY = ("dying lying tying skies sky happily happy hoping hoped sensitivity ability "
          "possibility possibly relational generously cities agreed agreeing conditional "
          "hopefulness analogies valency organizer organization radically feed feeding news "
          "only early gently ugly idly singly skis atlas bias cosmos andes 2022 putin путин "
          "talked talks talking calls called")


def broken(words: set[str]) -> list[tuple[str, str, str | None]]:
    return [(w, stem(w), needle(stem(w))) for w in sorted(words)
            if needle(stem(w)) is not None and not w.startswith(needle(stem(w)) or "")]


def test_every_word_starts_with_its_needle() -> None:
    assert broken(set(TRICKY.split())) == []
    words = {w for page in FIXTURE.glob("sites/**/*.html")
             for w in tokens(html_text(page.read_text(encoding="utf-8")))}
    assert len(words) > 500 and broken(words) == []


def test_every_corpus_word_starts_with_its_needle() -> None:
    words: set[str] = set()
    for file in corpus_dir("topics").glob("*.jsonl"):
        for line in file.open(encoding="utf-8"):
            row = json.loads(line)
            words.update(tokens(f"{row.get('title') or ''} {row.get('text') or ''}"))
    assert len(words) > 10_000 and broken(words) == []


@pytest.mark.parametrize(("query", "cnf"), [
    ("trump putin", [["trump"], ["putin"]]),
    ("talks OR calling", [["call", "talk"]]),
    ("happy -sad", [["happ"]]),
    ('"ability to"~3', [["abil"]]),  # "to" is too short to filter by
    ("talk* outlet:reuters", [["talk"]]),
    ("NOT a OR to", None),
])
def test_needles(query: str, cnf: list[list[str]] | None) -> None:
    assert needles(parse_query(query)) == cnf
