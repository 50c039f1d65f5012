"""The topic query language: Lucene syntax (as Media Cloud users write it), parsed by luqum.

Supported now: terms, "phrases", trailing wildcards (talk*), AND, OR, NOT / -term, +term,
parentheses, proximity ("trump putin"~15: all words within 15 words of each other, any order)
and the fields title:, lead: and text:. Terms written side by side mean AND (as in Google and
Media Cloud's web search), not Lucene's OR. Matching is case- and accent-insensitive.

A query compiles once into a tree of small matcher objects; a document is tokenised once per
field. Each match carries the terms that matched and where, which gives its score.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from luqum import tree
from luqum.exceptions import ParseError
from luqum.parser import parser

FIELDS = ("title", "lead", "text")
# Evidence in the title or the lead says more about an article's subject than a passing
# mention deep in the text.
FIELD_WEIGHTS = {"title": 3.0, "lead": 2.0, "text": 1.0}
LEAD_SENTENCES = 3  # the first three sentences: the news is told there

_TOKEN = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+")


class QueryError(ValueError):
    """A query the user wrote that cannot be run; the message names the position and fix."""


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Zelenskiy' and 'ZELENSKIY', 'Škoda' and 'skoda'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def lead_of(text: str) -> str:
    return " ".join(_SENTENCE_END.split(text.strip(), maxsplit=LEAD_SENTENCES)[:LEAD_SENTENCES])


@dataclass
class Document:
    """An article as the matcher sees it: each field tokenised once."""

    title: str
    text: str
    fields: dict[str, list[str]] = field(init=False)
    index: dict[str, dict[str, list[int]]] = field(init=False)

    def __post_init__(self) -> None:
        self.fields = {
            "title": tokens(self.title),
            "lead": tokens(lead_of(self.text)),
            "text": tokens(self.text),
        }
        self.index = {}
        for name, toks in self.fields.items():
            positions: dict[str, list[int]] = {}
            for i, t in enumerate(toks):
                positions.setdefault(t, []).append(i)
            self.index[name] = positions


Hits = set[tuple[str, str]]  # (field, matched term)


class Node:
    def match(self, doc: Document, fields: tuple[str, ...]) -> Hits | None:
        """The hits that satisfy this node, or None when it does not match."""
        raise NotImplementedError


@dataclass
class Term(Node):
    word: str
    prefix: bool = False

    def positions(self, doc: Document, fname: str) -> list[tuple[int, str]]:
        index = doc.index[fname]
        if not self.prefix:
            return [(p, self.word) for p in index.get(self.word, ())]
        return [(p, t) for t, ps in index.items() if t.startswith(self.word) for p in ps]

    def match(self, doc: Document, fields: tuple[str, ...]) -> Hits | None:
        hits = {(f, t) for f in fields for _, t in self.positions(doc, f)}
        return hits or None


@dataclass
class Phrase(Node):
    words: list[Term]
    slop: int | None = None  # None: exact order, adjacent; n: all within a window of n words

    def match(self, doc: Document, fields: tuple[str, ...]) -> Hits | None:
        hits: Hits = set()
        for f in fields:
            found = self._in_field(doc, f)
            if found:
                hits.add((f, found))
        return hits or None

    def _in_field(self, doc: Document, fname: str) -> str | None:
        lists = [w.positions(doc, fname) for w in self.words]
        if not all(lists):
            return None
        if self.slop is None:
            starts = {p for p, _ in lists[0]}
            for i, lst in enumerate(lists[1:], 1):
                starts &= {p - i for p, _ in lst}
            if not starts:
                return None
            s = min(starts)
            return " ".join(dict(lists[k])[s + k] for k in range(len(lists)))
        # Proximity: some occurrence of every word inside one window of slop+len words.
        window = self.slop + len(self.words)
        events = sorted((p, k, t) for k, lst in enumerate(lists) for p, t in lst)
        last: dict[int, tuple[int, str]] = {}
        for p, k, t in events:
            last[k] = (p, t)
            if len(last) == len(lists) and p - min(q for q, _ in last.values()) < window:
                return " … ".join(t for _, t in sorted(last.values()))
        return None


@dataclass
class And(Node):
    parts: list[Node]

    def match(self, doc: Document, fields: tuple[str, ...]) -> Hits | None:
        hits: Hits = set()
        for part in self.parts:
            h = part.match(doc, fields)
            if h is None:
                return None
            hits |= h
        return hits


@dataclass
class Or(Node):
    parts: list[Node]

    def match(self, doc: Document, fields: tuple[str, ...]) -> Hits | None:
        found = [h for p in self.parts if (h := p.match(doc, fields)) is not None]
        return set().union(*found) if found else None


@dataclass
class Not(Node):
    part: Node

    def match(self, doc: Document, fields: tuple[str, ...]) -> Hits | None:
        return None if self.part.match(doc, fields) is not None else set()


@dataclass
class InField(Node):
    fields: tuple[str, ...]
    part: Node

    def match(self, doc: Document, fields: tuple[str, ...]) -> Hits | None:
        return self.part.match(doc, self.fields)


def _term(raw: str, pos: int) -> Term:
    if "?" in raw or "*" in raw.rstrip("*"):
        raise QueryError(
            f"position {pos + 1}: wildcard in {raw!r} is only supported at the end of a word "
            f"(e.g. talk*)."
        )
    prefix = raw.endswith("*")
    words = tokens(raw.rstrip("*"))
    if len(words) != 1:
        raise QueryError(
            f"position {pos + 1}: {raw!r} is not a single word; put it in quotes for a phrase."
        )
    if prefix and len(words[0]) < 3:
        raise QueryError(
            f"position {pos + 1}: wildcard {raw!r} needs at least 3 letters before the *."
        )
    return Term(words[0], prefix)


def _compile(node: tree.Item) -> Node:
    pos = node.pos or 0
    match node:
        case tree.Word():
            if node.value.upper() in ("AND", "OR", "NOT", "&&", "||"):
                raise QueryError(f"position {pos + 1}: {node.value!r} has nothing on one side.")
            return _term(node.value, pos)
        case tree.Phrase():
            words = [Term(w) for w in tokens(node.value.strip('"'))]
            if not words:
                raise QueryError(f"position {pos + 1}: the phrase {node.value} has no words.")
            return words[0] if len(words) == 1 else Phrase(words)
        case tree.Fuzzy():
            raise QueryError(
                f"position {pos + 1}: ~ after a single word (fuzzy search) is not supported;"
                f' for proximity quote the words: "trump putin"~15.'
            )
        case tree.Proximity():  # luqum only builds it around a phrase
            words = [Term(w) for w in tokens(node.children[0].value.strip('"'))]
            return Phrase(words, slop=int(node.degree if node.degree is not None else 0))
        case tree.AndOperation() | tree.UnknownOperation():
            return And([_compile(c) for c in node.children])
        case tree.OrOperation():
            return Or([_compile(c) for c in node.children])
        case tree.Not() | tree.Prohibit():
            return Not(_compile(node.children[0]))
        case tree.Plus() | tree.Group() | tree.FieldGroup():
            return _compile(node.children[0])
        case tree.SearchField():
            name = node.name.lower()
            if name not in FIELDS:
                raise QueryError(
                    f"position {pos + 1}: unknown field {node.name!r}; "
                    f"use one of {', '.join(f + ':' for f in FIELDS)}."
                )
            return InField(("title",) if name == "title" else (name,), _compile(node.expr))
    raise QueryError(
        f"position {pos + 1}: {type(node).__name__.lower()} ({node}) is not supported "
        f"in topic queries."
    )


_POSITION = re.compile(r"unexpected\s+'(.*?)' at position (\d+)")


@lru_cache(maxsize=1024)
def parse_query(query: str) -> Node:
    if not query.strip():
        raise QueryError("the query is empty; write some words, e.g. trump AND putin.")
    try:
        parsed = parser.parse(query)
    except ParseError as e:
        m = _POSITION.search(str(e))
        if m:
            raise QueryError(
                f"position {int(m.group(2)) + 1}: unexpected {m.group(1)!r}. Check the "
                f"operators and parentheses around it."
            ) from None
        raise QueryError(
            "unexpected end of the query: a parenthesis or quote is not closed, "
            "or an operator has nothing after it."
        ) from None
    compiled = _compile(parsed)
    if isinstance(compiled, Not):
        raise QueryError("the query only excludes; add at least one word to look for.")
    return compiled


@dataclass(frozen=True)
class Verdict:
    matched: bool
    score: float
    terms: tuple[str, ...]  # "field:term", sorted


def evaluate(query: str, doc: Document) -> Verdict:
    hits = parse_query(query).match(doc, ("title", "text"))
    if hits is None:
        return Verdict(False, 0.0, ())
    lead = set(doc.fields["lead"])
    terms: set[str] = set()
    score = 0.0
    for f, t in hits:
        # A term of the text that also stands in the lead counts as lead evidence.
        if f == "text" and all(w in lead for w in tokens(t)):
            f = "lead"
        if f"{f}:{t}" not in terms:
            terms.add(f"{f}:{t}")
            score += FIELD_WEIGHTS[f]
    return Verdict(True, round(score, 2), tuple(sorted(terms)))
