"""The topic query language: every operator and field, scores, and the error messages."""

from __future__ import annotations

import pytest

from tasks.topics import Document, Glance, QueryError, evaluate, fold, lead_of, parse_query

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
    ('"putin trump"~20', True),        # proximity ignores order
    ('"kremlin trump"~20', False),     # ... but stays inside one sentence
    ('"confirm officials"~5', False),  # a phrase never spans two sentences
    ("spok*", True),
    ("conf*", True),
    ("telephon*", False),
    ("title:putin", True),
    ("title:kremlin", False),
    ("lead:kremlin", True),            # second sentence is in the lead
    ("lead:officials", False),         # third sentence is not
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
    assert lead_of("One. Two! Three? Four. Five.") == "One. Two!"


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
    ("author:smith", "position 1: unknown field 'author'; use one of title:, lead:, text:, "
                     "outlet:, domain:, lang:."),
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
        verdict = evaluate(topic.query, doc, topic.aliases)
        assert verdict.matched is (topic.name in exp["topics"]), path


ALIASES = {"putin": ["Vladimir Putin", "Putin", "Путин"], "contact": ["call", "spoke", "met"]}


@pytest.mark.parametrize(("query", "expected"), [
    ("putin", True),                       # the alias: any entry
    ('"trump contact"~5', True),           # single-word alias inside a proximity
    ("talks", False),
    ("talk", False),
    ("speak", False),                      # irregular forms are not stems of each other
    ("spoke", True),
    ("confirmed", True),                   # stems: confirm / confirmed
    ("officials", True),
    ("official", True),
])
def test_aliases_and_stems(query: str, expected: bool) -> None:
    assert evaluate(query, DOC, ALIASES).matched is expected


def test_alias_entries_of_several_words_cannot_stand_in_quotes() -> None:
    with pytest.raises(QueryError) as e:
        parse_query('"trump putin"~5', ALIASES)
    assert str(e.value) == (
        "position 1: alias 'putin' has entries of several words, so it cannot stand inside "
        "quotes; use single-word entries or write it outside.")


def test_cyrillic_alias() -> None:
    doc = Document("Путин и Трамп", "Разговор состоялся во вторник.")
    assert evaluate("putin", doc, ALIASES).terms == ("title:путин",)


@pytest.mark.parametrize(("query", "expected"), [
    ('outlet:"capital wire"', True),
    ("outlet:capital", True),
    ('outlet:"wire capital"', False),
    ("domain:capitalwire.example", True),
    ("domain:www.capitalwire.example", True),
    ("domain:example", True),              # a parent domain
    ("domain:wire.example", False),        # not a suffix at a dot
    ("lang:en", True),
    ("lang:fr", False),
    ("putin AND (lang:fr OR domain:capitalwire.example)", True),
    ("putin AND NOT outlet:capital", False),
])
def test_metadata_fields(query: str, expected: bool) -> None:
    doc = Document(DOC.title, DOC.text, "Capital Wire",
                   "https://www.capitalwire.example/world/x", "en-US")
    assert evaluate(query, doc).matched is expected


def test_metadata_field_needs_a_value() -> None:
    with pytest.raises(QueryError) as e:
        parse_query('domain:"a" AND domain:(x AND y)')
    assert str(e.value) == (
        "position 16: domain: takes a value or (a OR b), e.g. domain:example.com.")


def test_snippet_shows_the_best_sentences_in_bold() -> None:
    v = evaluate('"trump putin"~12 AND phone', DOC)
    assert v.snippet == ("US President Donald **Trump** said he has spoken to Russian President "
                         "Vladimir **Putin** by **phone**.")
    assert evaluate("title:ukraine", DOC).snippet == ""  # title-only evidence: no text snippet


def test_min_score_drops_weak_matches() -> None:
    from newswatch.config import TopicSpec
    from tasks.match import percolate

    rows = [{"article_id": "a", "title": "Markets", "text": "Intro. More. Putin spoke later."},
            {"article_id": "b", "title": "Putin spoke", "text": "Putin spoke to reporters."}]
    loose = TopicSpec("t", "putin AND spoke")
    strict = TopicSpec("t", "putin AND spoke", min_score=6.0)
    assert [m.article_id for m in percolate([loose], rows)] == ["a", "b"]
    assert [(m.article_id, m.score) for m in percolate([strict], rows)] == [("b", 10.0)]


def test_handwritten_set_as_unit_fixture() -> None:
    """The default topic (recall query + shipped model) on the hand-written set of
    tests/labelled/: three-sentence briefs written to fit the old query. Every positive passes;
    the model, fitted on real coverage, lets through 8 of 45 hard negatives that name both men
    in their headline — briefs unlike the real articles it learned from. The measure is
    bench/topic_eval.py on real articles, not this set."""
    import tomllib

    from newswatch.config import load_config
    from tasks.match import models_for, percolate
    from tests.conftest import ROOT

    cfg = load_config(ROOT / "newswatch.toml")
    topic = cfg.topics[0]
    items = tomllib.loads((ROOT / "tests" / "labelled" / "trump_putin_contacts.toml")
                          .read_text(encoding="utf-8"))["article"]
    rows = [{"article_id": str(i), "title": a["title"], "text": a["text"]}
            for i, a in enumerate(items)]
    accepted = {m.article_id for m in percolate([topic], rows, models_for(cfg, [topic], False))
                if m.relevant}
    tp = [a for i, a in enumerate(items) if a["label"] and str(i) in accepted]
    fp = [a for i, a in enumerate(items) if not a["label"] and str(i) in accepted]
    assert (len(tp), len(fp)) == (45, 8)
    assert sorted(a["kind"] for a in fp) == ["hard-negative"] * 6 + ["other-leaders"] * 2


def test_default_topic_on_real_articles_from_basil() -> None:
    """BASIL's 300 real articles: 11 name both men; only the three outlets' reports of the
    planned 2018 Helsinki meeting are about a contact between them. The recall query selects
    9; the model accepts exactly those three."""
    import json

    from newswatch.config import load_config
    from tasks.match import models_for, percolate
    from tests.conftest import ROOT
    from tests.corpus import corpus_dir

    path = corpus_dir("events", "basil") / "basil_articles.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    arts = [{"article_id": r["uuid"], "title": r["title"], "text": r["text"]} for r in rows]
    cfg = load_config(ROOT / "newswatch.toml")
    topic = cfg.topics[0]
    matches = list(percolate([topic], arts, models_for(cfg, [topic], retrain=False)))
    accepted = {m.article_id for m in matches if m.relevant}
    events = {r["main_event"] for r in rows if r["uuid"] in accepted}
    assert (len(matches), len(accepted)) == (9, 3)  # the recall query selects 9
    assert events == {"Democrats Say Trump Should Cancel Putin Meeting After Indictments"}


@pytest.mark.parametrize("query", [
    "putin", "trump AND putin", "biden OR putin", "trump AND NOT biden", '"vladimir putin"',
    '"putin trump"~20', "spok*", "title:putin", "lead:kremlin", "brussel", "brüssel",
    "putin AND NOT outlet:capital"])
def test_a_query_that_matches_may_match_at_a_glance(query: str) -> None:
    """The glance (distinct words and stems) never rules out a query the article matches."""
    assert matches(query)
    assert parse_query(query).may_match(Glance.of(DOC.title, DOC.text))


@pytest.mark.parametrize("query", [
    "biden", "trump AND biden", "biden OR obama", "telephon*", '"vladimir biden"',
    'title:(putin AND biden)'])
def test_a_glance_rules_out_a_query_that_needs_a_missing_word(query: str) -> None:
    assert not matches(query)
    assert not parse_query(query).may_match(Glance.of(DOC.title, DOC.text))


def test_percolation_at_a_glance_matches_what_evaluation_matches() -> None:
    """Over the corpus's 3,595 real articles: the same matches with the glance as when every
    article is tokenised in full and evaluated."""
    from newswatch.config import TopicSpec
    from tasks.match import document, percolate
    from tests.corpus import topic_articles

    rows = [{"article_id": a["id"], "title": a.get("title") or "", "text": a["text"]}
            for a in topic_articles()]
    topics = [TopicSpec(name=f"t{i}", query=q, min_score=0.0) for i, q in enumerate([
        "trump AND putin AND (call OR phone OR summit)", '"white house" AND NOT trump',
        "climat* OR warming", 'title:(ukraine OR russia) AND "peace talks"~5',
        "vaccine AND (covid OR coronavirus)", "lead:senate AND NOT biden"])]
    got = {(m.topic, m.article_id, m.score, m.terms, m.snippet)
           for m in percolate(topics, rows)}
    want = set()
    for row in rows:
        doc = document(row)
        for t in topics:
            v = evaluate(parse_query(t.query), doc)
            if v.matched:
                want.add((t.name, row["article_id"], v.score, v.terms, v.snippet))
    assert got == want
    assert len(got) > 300


def _pure_snowball(algorithm: str):  # type: ignore[no-untyped-def]
    """snowballstemmer's own pure-Python stemmer, which snowballstemmer.stemmer() stops
    using once PyStemmer is installed."""
    import importlib

    module = importlib.import_module(f"snowballstemmer.{algorithm}_stemmer")
    return getattr(module, f"{algorithm.capitalize()}Stemmer")()


SENTENCES = {  # a few inflected words of each language we stem
    "en": "the nations were meeting repeatedly about happiness and generously funded studies",
    "de": "die verhandlungen zwischen den präsidenten laufen seit wochen ergebnislos",
    "fr": "les présidents se sont rencontrés plusieurs fois pour négocier des accords",
    "es": "los presidentes hablaron telefónicamente sobre las negociaciones económicas",
    "it": "i presidenti hanno parlato lungamente delle trattative commerciali",
    "ru": "президенты обсуждали переговоры по телефону в течение часа",
    "pt": "os presidentes conversaram longamente sobre as negociações comerciais",
    "nl": "de presidenten spraken telefonisch over de onderhandelingen",
    "sv": "presidenterna talade länge om förhandlingarna i telefon",
    "da": "præsidenterne talte længe om forhandlingerne i telefonen",
    "no": "presidentene snakket lenge om forhandlingene på telefon",
    "fi": "presidentit keskustelivat puhelimessa neuvotteluista pitkään",
    "pl": "prezydenci rozmawiali telefonicznie o negocjacjach handlowych",
    "tr": "cumhurbaşkanları telefonda müzakereleri uzun uzun konuştular",
}


def test_the_c_stemmer_stems_as_snowballs_own_python() -> None:
    """stem() uses PyStemmer (the Snowball project's C stemmers, ~17x faster); its stems are
    those of snowballstemmer's pure Python, word for word, in every language we stem."""
    import Stemmer

    from tasks.topics import STEMMERS, _stemmer, tokens

    assert set(SENTENCES) == set(STEMMERS)
    for lang, algorithm in STEMMERS.items():
        assert isinstance(_stemmer(lang), Stemmer.Stemmer)
        pure = _pure_snowball(algorithm)
        words = tokens(SENTENCES[lang])
        assert [_stemmer(lang).stemWord(w) for w in words] == [pure.stemWord(w) for w in words]
    assert _stemmer("en").stemWord("happiness") == "happi"


def test_each_thread_has_its_own_stemmer() -> None:
    """A Snowball stemmer holds the word it is stemming: threads must not share one."""
    import threading

    from tasks.topics import _stemmer

    seen = []
    t = threading.Thread(target=lambda: seen.append(_stemmer("en")))
    t.start()
    t.join()
    assert seen[0] is not _stemmer("en")
    assert _stemmer("en") is _stemmer("en")


def test_the_c_stemmer_on_every_word_of_the_real_articles() -> None:
    """Every distinct word of the corpus's 3,595 real articles stems the same in C as in
    snowballstemmer's Python: all of them in English, the first 3,000 in the other languages."""
    from tasks.topics import STEMMERS, _stemmer, tokens
    from tests.corpus import topic_articles

    words: set[str] = set()
    for a in topic_articles():
        words.update(tokens(f"{a.get('title') or ''} {a['text']}"))
    vocab = sorted(w for w in words if w.isalpha())
    assert len(vocab) > 30_000
    for lang, algorithm in STEMMERS.items():
        pure, c = _pure_snowball(algorithm), _stemmer(lang)
        some = vocab if lang == "en" else vocab[:3000]
        assert [w for w in some if c.stemWord(w) != pure.stemWord(w)] == []
