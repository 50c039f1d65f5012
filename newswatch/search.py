"""The query language over every stored article, for the web's search page and topic query box:
what `newswatch topics test` does, kept in memory for paging and never saved.

SQL first narrows the articles to those that can match: every word the query needs leaves a
*needle* (a stem cut back to what every form of the word starts with: talked, talks → "tal")
that must stand in the article's folded text. The table is scanned a chunk of rows per short
read-only connection (an ingest gets the file between chunks), and the articles that pass are
judged by the query language itself, so the result is exactly what `topics test` finds. A
search's hits are kept: paging or reloading evaluates nothing while no article changes, and
when articles arrive or change only those are judged and merged in (articles are never
deleted; a new one first seen before the newest already stored sends the search round the
whole table again).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from newswatch.config import TopicSpec
from tasks.match import percolate
from tasks.relevance import Model
from tasks.topics import STEMMERS, And, InField, Node, Or, Phrase, Term, fold, parse_query
from warehouse import db

CACHED_SEARCHES = 32  # a few people paging through a few queries each; a hit list is small
MIN_NEEDLE = 3  # shorter needles are in nearly every article: no use as a filter
MAX_CLAUSES = 64  # an OR of ANDs multiplies out; past this the filter is dropped, not the search
# Snowball's irregular forms whose stem is not a prefix of the word (dying → die, skies → sky).
IRREGULAR = {"die": "d", "lie": "l", "tie": "t", "sky": "sk"}
# Scripts whose characters the SQL fold is checked against Python's, character by character:
# Latin (with its extensions), combining marks, Greek, Cyrillic, punctuation, currency. An article
# with any other character, or one of these that folds differently, skips the filter.
CHECKED = ((0x0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x2000, 0x206F),
           (0x20A0, 0x20CF))

CNF = list[list[str]]  # AND of ORs of needles; [] is "anything"


# Articles in a language with a stemmer of its own are always judged by the query language:
# the needles are cut from English stems.
OTHER_LANGUAGES = sorted(set(STEMMERS) - {"en"})


@dataclass(frozen=True)
class Hit:
    article_id: str
    score: float
    snippet: str
    day: str  # publication day (else first seen), ISO
    probability: float | None = None  # the topic's relevance model, when one was applied
    relevant: bool = True


@dataclass
class Found:
    searched: int = 0
    hits: list[Hit] = field(default_factory=list)  # most probable, best, then newest first
    model: Model | None = None

    @property
    def relevant(self) -> int:
        return sum(h.relevant for h in self.hits)

    @property
    def per_day(self) -> Counter[str]:
        return Counter(h.day for h in self.hits)


@dataclass
class _Entry:
    version: tuple[Any, ...]  # the articles' state it was computed on (web_search_version.sql)
    found: Found


_cache: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
_versions: dict[str, tuple[Any, tuple[Any, ...]]] = {}  # path -> (file state, articles' state)
_lock = threading.Lock()


def _version(path: Path, wait_s: float, ids: Sequence[str]
             ) -> tuple[tuple[Any, ...], dict[str, dict[str, Any]] | None]:
    """The articles' state, read again only when the file has changed since the last read;
    then on the same connection the articles `ids` (the page a kept search would show), else
    None."""
    state = db.web_state(path)
    with _lock:
        known = _versions.get(str(path))
    if state is not None and known is not None and known[0] == state:
        return known[1], None
    version, articles = db.web_search_version(path, wait_s, ids)
    if state is not None:
        with _lock:
            _versions[str(path)] = (state, version)
    return version, articles


def search(path: Path, wait_s: float, query: str,
           aliases: Mapping[str, Sequence[str]] | None = None, min_score: float = 0.0,
           model: Model | None = None) -> Found:
    """Every stored article matching `query`, with `model`'s probability when given (a topic's
    model, for the topic's own query). Raises QueryError (with the position and the fix) for
    a query that cannot run, before reading anything."""
    return search_shown(path, wait_s, query, aliases, min_score, model)[0]


def search_shown(path: Path, wait_s: float, query: str,
                 aliases: Mapping[str, Sequence[str]] | None = None, min_score: float = 0.0,
                 model: Model | None = None, shown: slice = slice(0)
                 ) -> tuple[Found, dict[str, dict[str, Any]] | None]:
    """search(), and the articles of hits[shown] when they were read on the way (a kept
    search checked on one connection), else None: the caller reads them."""
    parse_query(query, aliases)
    frozen = tuple(sorted((k, tuple(v)) for k, v in (aliases or {}).items()))
    fitted = (model.trained_at, model.examples_digest) if model else None
    key = (str(path), query, frozen, min_score, fitted)
    with _lock:
        entry = _cache.get(key)
        if entry is not None:
            _cache.move_to_end(key)
    version, articles = _version(
        path, wait_s, [h.article_id for h in entry.found.hits[shown]] if entry else [])
    if entry is not None and entry.version == version:
        return entry.found, articles
    cnf = needles(parse_query(query, aliases)) or []
    old = entry.version if entry is not None else None
    if (old is not None and old[1] is not None and version[0] >= old[0]
            and db.web_search_settled(path, wait_s, old[1]) == old[3]):
        fresh = _evaluate(db.web_search_candidates(
            path, wait_s, cnf, unsafe_chars(), OTHER_LANGUAGES, changed_since=(old[1], old[2])),
            query, dict(aliases or {}), min_score, model)
        changed = db.web_search_changed(path, wait_s, old[1], old[2])
        kept = [h for h in entry.found.hits if h.article_id not in changed]  # type: ignore[union-attr]
        found = Found(model=model, hits=sorted(kept + fresh.hits, key=_order))
    else:
        found = _evaluate(db.web_search_candidates(path, wait_s, cnf, unsafe_chars(),
                                                   OTHER_LANGUAGES),
                          query, dict(aliases or {}), min_score, model)
    found.searched = version[0]
    with _lock:
        _cache[key] = _Entry(version, found)
        _cache.move_to_end(key)
        while len(_cache) > CACHED_SEARCHES:
            _cache.popitem(last=False)
    return found, None


def _order(h: Hit) -> tuple[Any, ...]:
    """Most probable, best, then newest first."""
    return (-(h.probability or 0.0), -h.score, _neg(h.day), h.article_id)


def _evaluate(chunks: Iterable[list[dict[str, Any]]], query: str,
              aliases: dict[str, Sequence[str]], min_score: float, model: Model | None
              ) -> Found:
    topic = TopicSpec(name="search", query=query, min_score=min_score,
                      aliases={k: tuple(v) for k, v in aliases.items()})
    found = Found(model=model)
    days: dict[str, str] = {}

    def rows() -> Iterator[dict[str, Any]]:
        for chunk in chunks:
            for row in chunk:
                when = row["published_at"] or row["first_seen_at"]
                days[row["article_id"]] = when.date().isoformat()
                yield row
            days.clear()  # percolate has yielded every match of the chunk by now

    hits = [Hit(m.article_id, m.score, m.snippet, days[m.article_id], m.probability, m.relevant)
            for m in percolate([topic], rows(), {"search": model} if model else None)]
    found.hits = sorted(hits, key=_order)
    return found


def _neg(day: str) -> tuple[int, ...]:
    return tuple(-int(x) for x in day.split("-"))


def needle(stem: str) -> str | None:
    """What every word with this stem starts with: the stem less the letters Snowball may have
    written at its end (happy → happi, hoping → hope, sensitivity → sensitive, ability →
    able). Other endings it makes (-al, -ful, -ous, -ic …) are prefixes of what they replace."""
    if stem in IRREGULAR:
        cut = IRREGULAR[stem]
    elif not stem.isalpha():
        cut = stem  # numbers are not stemmed
    elif stem.endswith("ble"):
        cut = stem[:-2]
    elif stem.endswith(("e", "i", "bl")):
        cut = stem[:-1]
    else:
        cut = stem
    return cut if len(cut) >= MIN_NEEDLE else None


def needles(node: Node) -> CNF | None:
    """Needles an article must hold to match (None: no filter possible). Conservative: NOT and
    the metadata fields filter nothing here; the query language judges every candidate."""
    match node:
        case Term(prefix=str() as prefix):
            return [[prefix]] if len(prefix) >= MIN_NEEDLE else None
        case Term():
            found = [needle(s) for s in node.stems("en")]
            return None if not found or None in found else [sorted(set(found))]  # type: ignore
        case Phrase(words=words):
            return _and([needles(w) for w in words])
        case And(parts=parts):
            return _and([needles(p) for p in parts])
        case InField(part=part):
            return needles(part)
        case Or(parts=parts):
            cnf: CNF = [[]]
            for p in parts:
                sub = needles(p)
                if not sub:
                    return None
                cnf = [sorted(set(a) | set(b)) for a in cnf for b in sub]
                if len(cnf) > MAX_CLAUSES:
                    return None
            return cnf
    return None  # Not, Meta


def _and(parts: list[CNF | None]) -> CNF | None:
    out = [c for p in parts if p for c in p]
    return out or None


@cache
def unsafe_chars() -> str:
    """A regex class of every character the SQL fold (lower, strip_accents) may not turn into
    what the query language's fold makes of it."""
    cps = [c for lo, hi in CHECKED for c in range(lo, hi + 1)]
    sql_fold = db.fold_chars(cps)
    same = [c for c in cps if sql_fold.get(c) == fold(chr(c))]
    ranges: list[list[int]] = []
    for c in same:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return "[^" + "".join(f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges) + "]"
