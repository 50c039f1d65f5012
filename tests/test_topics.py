"""The topic query language: every operator and field, scores, and the error messages."""

from __future__ import annotations

import pytest

from tasks.topics import Document, QueryError, evaluate, fold, lead_of, parse_query

DOC = Document(
    title="Trump says he spoke to Putin about Ukraine",
    text=("US President Donald Trump said he has spoken to Russian President Vladimir Putin "
          "by phone. The Kremlin did not confirm it. Officials in Kyiv were not told. "
          "Markets were calm on Monday. Zelenskiy met European leaders in Brüssel."),
)


def matches(q: str, doc: Document = DOC) -> bool:
    return evaluate(q, doc).matched


@pytest.mark.parametrize(("query", "expected"), [
    ("putin", True),
    ("biden", False),
    ("trump AND putin", True),
    ("trump AND biden", False),
    ("trump putin", True),            # side by side means AND
    ("trump biden", False),
    ("biden OR putin", True),
    ("biden OR obama", False),
    ("trump AND NOT biden", True),
    ("trump AND NOT putin", False),
    ("trump -putin", False),
    ("+trump +putin", True),
    ("(biden OR putin) AND kremlin", True),
    ("(biden OR obama) AND kremlin", False),
    ('"vladimir putin"', True),
    ('"putin vladimir"', False),       # a phrase keeps its order
    ('"by phone"', True),
    ('"trump putin"~10', True),        # within 10 words (title: 4 apart)
    ('"donald kyiv"~5', False),
    ('"kremlin trump"~20', True),      # proximity ignores order
    ("spok*", True),
    ("conf*", True),
    ("telephon*", False),
    ("title:putin", True),
    ("title:kremlin", False),
    ("lead:kremlin", True),            # second sentence is in the lead
    ("lead:markets", False),           # fourth sentence is not
    ("text:markets", True),
    ("title:(putin AND ukraine)", True),
    ('title:"spoke to putin"', True),
    ("zelenskiy", True),
    ("ZELENSKIY", True),               # case-insensitive
    ("brussel", True),                 # accent-insensitive: Brüssel
    ("brüssel", True),
])
def test_operators_and_fields(query: str, expected: bool) -> None:
    assert matches(query) is expected


def test_fold_and_lead() -> None:
    assert fold("Škoda ZELENSKIY Brüssel") == "skoda zelenskiy brussel"
    assert lead_of("One. Two! Three? Four. Five.") == "One. Two! Three?"


def test_explanation_lists_terms_by_field() -> None:
    v = evaluate('title:putin AND "by phone"', DOC)
    assert v.terms == ("lead:by phone", "title:putin")
    assert v.score == 5.0  # title 3 + lead 2


def test_title_and_lead_outrank_a_passing_mention() -> None:
    in_title = Document("Putin and Trump talk", "A report. " * 3 + "Nothing else here.")
    in_lead = Document("A report", "Putin and Trump talked on Friday. More text. Even more.")
    deep = Document("A report", "Intro. Second. Third. Fourth. Then Putin and Trump talked.")
    q = "putin AND trump AND talk*"
    scores = [evaluate(q, d).score for d in (in_title, in_lead, deep)]
    assert scores == [9.0, 6.0, 3.0]


@pytest.mark.parametrize(("query", "message"), [
    ("", "the query is empty; write some words, e.g. trump AND putin."),
    ("trump AND (putin", "unexpected end of the query: a parenthesis or quote is not closed, "
                         "or an operator has nothing after it."),
    ('"trump putin', "unexpected end of the query: a parenthesis or quote is not closed, "
                     "or an operator has nothing after it."),
    ("trump AND AND putin", "position 11: unexpected 'AND'. Check the operators and "
                            "parentheses around it."),
    ("trump ) putin", "position 7: unexpected ')'. Check the operators and parentheses "
                      "around it."),
    ("author:smith", "position 1: unknown field 'author'; use one of title:, lead:, text:."),
    ("t?st", "position 1: wildcard in 't?st' is only supported at the end of a word "
             "(e.g. talk*)."),
    ("ta*", "position 1: wildcard 'ta*' needs at least 3 letters before the *."),
    ("trump~2", "position 1: ~ after a single word (fuzzy search) is not supported; for "
                'proximity quote the words: "trump putin"~15.'),
    ("trump^2", "position 1: boost (trump^2) is not supported in topic queries."),
    ("NOT trump", "the query only excludes; add at least one word to look for."),
    ("trump AND [a TO b]", "position 11: range ([a TO b]) is not supported in topic queries."),
])
def test_bad_queries(query: str, message: str) -> None:
    with pytest.raises(QueryError) as e:
        parse_query(query)
    assert str(e.value) == message


def test_default_topic_on_the_fixture() -> None:
    import re

    from newswatch.config import load_config
    from tests.conftest import FIXTURE, ROOT, fixture_expectations

    topic = load_config(ROOT / "newswatch.toml").topics[0]
    for path, exp in fixture_expectations().items():
        html = (FIXTURE / path).read_text(encoding="utf-8")
        paragraphs = re.findall(r"<p>(.*?)</p>", html)
        import html as h
        doc = Document(exp["title"], "\n".join(h.unescape(p) for p in paragraphs))
        assert evaluate(topic.query, doc).matched is (topic.name in exp["topics"]), path
