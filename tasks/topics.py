"""The topic query language: Lucene syntax (as Media Cloud users write it), parsed by luqum.

Terms, "phrases", trailing wildcards (talk*), AND, OR, NOT / -term, +term, parentheses,
proximity ("trump putin"~15: all words within 15 words of each other, in any order), and the
fields title:, lead: (the first two sentences), text:, outlet:, domain: and lang:. Terms side
by side mean AND (as in Google and Media Cloud's web search), not Lucene's OR. Matching is case-
and accent-insensitive, and word forms meet at their stem in the article's language (talks,
talked, talking → talk; Gespräche, Gespräch → gesprach). A topic's aliases let a query say
`putin` for ("vladimir putin" OR putin OR путин).

A query compiles once into a tree of small matcher objects; an article is tokenised and stemmed
once. A match carries the terms that matched, a score that weighs where they stand, and a
snippet of the sentence that shows it best.
"""

from __future__ import annotations

import bisect
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import urlsplit

import snowballstemmer
from luqum import tree
from luqum.exceptions import ParseError
from luqum.parser import parser

TEXT_FIELDS = ("title", "lead", "text")
META_FIELDS = ("outlet", "domain", "lang")
# Evidence in the title or the lead says more about an article's subject than a passing
# mention deep in the text.
FIELD_WEIGHTS = {"title": 3.0, "lead": 2.0, "text": 1.0}
LEAD_SENTENCES = 2  # the lede and the sentence after it: where a report says what it is about
# Positions jump this far between sentences, as Elasticsearch's position_increment_gap does
# between values: a phrase or a proximity of up to this many words never spans two sentences.
SENTENCE_GAP = 100
SNIPPET_SENTENCES = 2  # enough to show why, short enough for a phone notification

_TOKEN = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+")
# Snowball stemmers by the article's language (ISO 639-1, as feeds and trafilatura give it);
# an article of another or unknown language is stemmed as English, the most common here.
STEMMERS = {"en": "english", "de": "german", "fr": "french", "es": "spanish",
            "it": "italian", "ru": "russian", "pt": "portuguese", "nl": "dutch",
            "sv": "swedish", "da": "danish", "no": "norwegian", "fi": "finnish",
            "pl": "polish", "tr": "turkish"}
# A Snowball stemmer keeps the word it is working on in the object, so two threads sharing one
# could stem each other's words: each thread has its own, one per language.
_stemmers = threading.local()


class QueryError(ValueError):
    """A query the user wrote that cannot be run; the message names the position and fix."""


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Zelenskiy' and 'ZELENSKIY', 'Škoda' and 'skoda'."""
    if text.isascii():  # most news text: nothing to decompose
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# The word caches of a `serve` process live as long as it does (weeks), so their size bounds
# its memory: an entry is ~105 bytes of cache (measured: 21 MB for 200,000) plus its word and
# stem, ~200 in all. News vocabulary is long-tailed: the shared corpus's 3,595 real articles
# hold 53,654 distinct words, and a cache of 50,000 hits 98.5 % of their tokens, as often as
# an unbounded one; the old 500,000 let a long-running process hold up to ~100 MB of words.
WORD_CACHE = 50_000
# Stems are cheap to redo in C (PyStemmer, ~1 us a word), and the cache is in every process of a
# run (the run and each extraction worker): 10,000 stems hold ~2 MB where 50,000 held ~9.5, and
# cost 0.113 ms an article's distinct words against 0.098 (the 3,595 corpus articles; 0.203 with
# no cache).
STEM_CACHE = 10_000


@lru_cache(maxsize=WORD_CACHE)
def _fold_word(word: str) -> str:
    return fold(word)


def tokens(text: str) -> list[str]:
    """Folded words. Word by word, so the slow Unicode path runs once per distinct word."""
    return [w.lower() if w.isascii() else _fold_word(w) for w in _TOKEN.findall(text)]


def stem_language(lang: str) -> str:
    """The stemmer language of an article's language tag ("de-AT" → "de"); "en" if none."""
    code = fold(lang or "").split("-")[0].split("_")[0]
    return code if code in STEMMERS else "en"


@lru_cache(maxsize=STEM_CACHE)
def stem(word: str, lang: str = "en") -> str:
    """The stem of a folded word in a language; cached, since news vocabulary repeats."""
    if not word.isalpha():
        return word
    return _stemmer(lang).stemWord(word)


def _stemmer(lang: str) -> Any:
    """This thread's Snowball stemmer for a language: PyStemmer's (C, ~17x faster, the same
    stems) where installed, as snowballstemmer picks it, with its own cache off (stem's is
    the one cache)."""
    own: dict[str, Any] | None = getattr(_stemmers, "by_lang", None)
    if own is None:
        own = _stemmers.by_lang = {}
    found = own.get(lang)
    if found is None:
        found = own[lang] = snowballstemmer.stemmer(STEMMERS.get(lang, "english"))
        if hasattr(found, "maxCacheSize"):
            found.maxCacheSize = 0
    return found


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def lead_of(text: str) -> str:
    return " ".join(sentences(text)[:LEAD_SENTENCES])


def domain_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def positioned(parts: list[str]) -> dict[int, str]:
    """Folded words by position, with a gap of SENTENCE_GAP between sentences."""
    out: dict[int, str] = {}
    for n, s in enumerate(parts):
        for i, t in enumerate(tokens(s)):
            out[n * SENTENCE_GAP + i] = t
    return out


@dataclass
class Document:
    """An article as the matcher sees it: each text field tokenised and stemmed once."""

    title: str
    text: str
    outlet: str = ""
    url: str = ""
    lang: str = ""
    raw: dict[str, dict[int, str]] = field(init=False)
    index: dict[str, dict[str, list[int]]] = field(init=False)

    def __post_init__(self) -> None:
        self.stem_lang = stem_language(self.lang)
        self.sentences = sentences(self.text)
        self.raw = {"title": positioned(sentences(self.title)), "text": positioned(self.sentences)}
        lead_end = LEAD_SENTENCES * SENTENCE_GAP
        self.raw["lead"] = {p: t for p, t in self.raw["text"].items() if p < lead_end}
        self.index = {}
        for name, toks in self.raw.items():
            positions: dict[str, list[int]] = {}
            for p, t in toks.items():
                positions.setdefault(stem(t, self.stem_lang), []).append(p)
            self.index[name] = positions

    @property
    def domain(self) -> str:
        return domain_of(self.url)

    @cached_property
    def vocabulary(self) -> dict[str, list[str]]:
        """Each field's distinct words, sorted: a prefix is a bisect away."""
        return {f: sorted(set(toks.values())) for f, toks in self.raw.items()}

    @cached_property
    def by_word(self) -> dict[str, dict[str, list[int]]]:
        out: dict[str, dict[str, list[int]]] = {}
        for f, toks in self.raw.items():
            positions: dict[str, list[int]] = {}
            for p, t in toks.items():
                positions.setdefault(t, []).append(p)
            out[f] = positions
        return out

    @cached_property
    def surfaces(self) -> dict[str, dict[str, set[str]]]:
        """Each field's stems with the words that stand for them: a term needs no positions."""
        out: dict[str, dict[str, set[str]]] = {}
        for f, toks in self.raw.items():
            forms: dict[str, set[str]] = {}
            for t in set(toks.values()):
                forms.setdefault(stem(t, self.stem_lang), set()).add(t)
            out[f] = forms
        return out

    @cached_property
    def sentence_words(self) -> list[set[str]]:
        return [set(tokens(s)) for s in self.sentences]


@dataclass(frozen=True)
class Glance:
    """An article's distinct words and their stems, title and text together: enough to rule
    out a query that needs a word the article lacks, at a third of a Document's cost (most
    articles match no topic: a topic's words are rare)."""

    words: frozenset[str]
    stems: frozenset[str]
    stem_lang: str  # the stemmer language they were stemmed in, as a Document's

    @classmethod
    def of(cls, title: str, text: str, lang: str = "") -> Glance:
        words = frozenset(tokens(title)).union(tokens(text))
        stem_lang = stem_language(lang)
        return cls(words, frozenset(stem(w, stem_lang) for w in words), stem_lang)


Hit = tuple[str, str]  # (field, what matched as it stands in the article)
Hits = set[Hit]


class Node:
    def match(self, doc: Document, fields: tuple[str, ...]) -> Hits | None:
        """The hits that satisfy this node, or None when it does not match."""
        raise NotImplementedError

    def may_match(self, glance: Glance) -> bool:
        """False only when `match` is None for the article, in any field: it lacks a word
        the node needs."""
        return True  # NOT, metadata: decided on the Document


@dataclass
class Term(Node):
    """One word position: any of `words` (a word, or a single-word alias's entries), met at
    their stems in the article's language, or a prefix."""

    words: tuple[str, ...]
    prefix: str | None = None
    _stems: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)

    def stems(self, lang: str = "en") -> tuple[str, ...]:
        found = self._stems.get(lang)
        if found is None:
            found = self._stems[lang] = tuple(sorted({stem(w, lang) for w in self.words}))
        return found

    def positions(self, doc: Document, fname: str) -> list[tuple[int, str]]:
        raw = doc.raw[fname]
        if self.prefix is not None:
            vocab, words = doc.vocabulary[fname], doc.by_word[fname]
            i = bisect.bisect_left(vocab, self.prefix)
            found = []
            while i < len(vocab) and vocab[i].startswith(self.prefix):
                found += [(p, vocab[i]) for p in words[vocab[i]]]
                i += 1
            return found
        index = doc.index[fname]
        return [(p, raw[p]) for s in self.stems(doc.stem_lang) for p in index.get(s, ())]

    def may_match(self, glance: Glance) -> bool:
        if self.prefix is not None:
            return any(w.startswith(self.prefix) for w in glance.words)
        return any(s in glance.stems for s in self.stems(glance.stem_lang))

    def match(self, doc: Document, fields: tuple[str, ...]) -> Hits | None:
        if self.prefix is not None:
            hits = {(f, t) for f in fields for _, t in self.positions(doc, f)}
        else:
            hits = {(f, t) for f in fields for s in self.stems(doc.stem_lang)
                    for t in doc.surfaces[f].get(s, ())}
        return hits or None


@dataclass
class Phrase(Node):
    words: list[Term]
    slop: int | None = None  # None: in order, adjacent; n: all within a window of n+len words

    def may_match(self, glance: Glance) -> bool:
        return all(w.may_match(glance) for w in self.words)

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
            at = [dict(lst) for lst in lists]
            for start in sorted(at[0]):
                if all(start + k in at[k] for k in range(1, len(at))):
                    return " ".join(at[k][start + k] for k in range(len(at)))
            return None
        # Proximity: one occurrence of every word inside a window of slop+len words.
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

    def may_match(self, glance: Glance) -> bool:
        return all(p.may_match(glance) for p in self.parts)

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

    def may_match(self, glance: Glance) -> bool:
        return any(p.may_match(glance) for p in self.parts)

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

    def may_match(self, glance: Glance) -> bool:
        return self.part.may_match(glance)  # the glance holds every field's words

    def match(self, doc: Document, fields: tuple[str, ...]) -> Hits | None:
        return self.part.match(doc, self.fields)


@dataclass
class Meta(Node):
    """outlet:, domain: or lang: — a test on the article's metadata, not its words."""

    name: str
    value: str

    def match(self, doc: Document, fields: tuple[str, ...]) -> Hits | None:
        if self.name == "domain":
            ok = doc.domain == self.value or doc.domain.endswith("." + self.value)
        elif self.name == "lang":
            ok = fold(doc.lang).split("-")[0] == self.value
        else:
            have, want = tokens(doc.outlet), tokens(self.value)
            ok = any(have[i:i + len(want)] == want for i in range(len(have) - len(want) + 1))
        return {(self.name, self.value)} if ok else None


class Compiler:
    """Turns luqum's tree into matchers, expanding a topic's aliases."""

    def __init__(self, aliases: Mapping[str, Sequence[str]] | None = None) -> None:
        self.aliases = {fold(k): list(v) for k, v in (aliases or {}).items()}

    def word(self, raw: str, pos: int, in_phrase: bool = False) -> Node:
        if "?" in raw or "*" in raw.rstrip("*"):
            raise QueryError(f"position {pos + 1}: wildcard in {raw!r} is only supported at the "
                             f"end of a word (e.g. talk*).")
        folded = fold(raw)
        if folded in self.aliases:
            return self.alias(folded, pos, in_phrase)
        words = tokens(raw.rstrip("*"))
        if len(words) != 1:
            raise QueryError(f"position {pos + 1}: {raw!r} is not a single word; put it in "
                             f"quotes for a phrase.")
        if raw.endswith("*"):
            if len(words[0]) < 3:
                raise QueryError(f"position {pos + 1}: wildcard {raw!r} needs at least 3 "
                                 f"letters before the *.")
            return Term((), prefix=words[0])
        return Term((words[0],))

    def alias(self, name: str, pos: int, in_phrase: bool) -> Node:
        entries = [tokens(e) for e in self.aliases[name]]
        if in_phrase:
            if any(len(e) != 1 for e in entries):
                raise QueryError(
                    f"position {pos + 1}: alias {name!r} has entries of several words, so it "
                    f"cannot stand inside quotes; use single-word entries or write it outside.")
            return Term(tuple(sorted({e[0] for e in entries})))
        parts: list[Node] = [Term((e[0],)) if len(e) == 1
                             else Phrase([Term((w,)) for w in e]) for e in entries if e]
        return Or(parts)

    def phrase(self, value: str, pos: int, slop: int | None) -> Node:
        words = [self.word(w, pos, in_phrase=True) for w in re.findall(r"\w+\*?", value)]
        if not words:
            raise QueryError(f"position {pos + 1}: the phrase {value} has no words.")
        if len(words) == 1 and slop is None:
            return words[0]
        return Phrase(words, slop)  # type: ignore[arg-type]

    def compile(self, node: tree.Item) -> Node:
        pos = node.pos or 0
        match node:
            case tree.Word():
                if node.value.upper() in ("AND", "OR", "NOT", "&&", "||"):
                    raise QueryError(f"position {pos + 1}: {node.value!r} has nothing on one "
                                     f"side.")
                return self.word(node.value, pos)
            case tree.Phrase():
                return self.phrase(node.value, pos, None)
            case tree.Fuzzy():
                raise QueryError(
                    f"position {pos + 1}: ~ after a single word (fuzzy search) is not "
                    f'supported; for proximity quote the words: "trump putin"~15.')
            case tree.Proximity():  # luqum only builds it around a phrase
                degree = int(node.degree if node.degree is not None else 0)
                return self.phrase(node.children[0].value, pos, degree)
            case tree.AndOperation() | tree.UnknownOperation():
                return And([self.compile(c) for c in node.children])
            case tree.OrOperation():
                return Or([self.compile(c) for c in node.children])
            case tree.Not() | tree.Prohibit():
                return Not(self.compile(node.children[0]))
            case tree.Plus() | tree.Group() | tree.FieldGroup():
                return self.compile(node.children[0])
            case tree.SearchField():
                return self.field(node, pos)
        raise QueryError(f"position {pos + 1}: {type(node).__name__.lower()} ({node}) is not "
                         f"supported in topic queries.")

    def field(self, node: tree.SearchField, pos: int) -> Node:
        name = node.name.lower()
        if name in TEXT_FIELDS:
            return InField((name,), self.compile(node.expr))
        if name in META_FIELDS:
            return self.meta(name, node.expr, pos)
        raise QueryError(f"position {pos + 1}: unknown field {node.name!r}; use one of "
                         f"{', '.join(f + ':' for f in TEXT_FIELDS + META_FIELDS)}.")

    def meta(self, name: str, expr: tree.Item, pos: int) -> Node:
        match expr:
            case tree.Word() | tree.Phrase():
                value = fold(expr.value.strip('"'))
                return Meta(name, value.removeprefix("www.") if name == "domain" else value)
            case tree.FieldGroup() | tree.Group():
                return self.meta(name, expr.children[0], pos)
            case tree.OrOperation():
                return Or([self.meta(name, c, pos) for c in expr.children])
        example = {"domain": "example.com", "lang": "en", "outlet": '"Capital Wire"'}[name]
        raise QueryError(f"position {pos + 1}: {name}: takes a value or (a OR b), "
                         f"e.g. {name}:{example}.")


_POSITION = re.compile(r"unexpected\s+'(.*?)' at position (\d+)")


def parse_query(query: str, aliases: Mapping[str, Sequence[str]] | None = None) -> Node:
    return _parse(query, tuple(sorted((k, tuple(v)) for k, v in (aliases or {}).items())))


@lru_cache(maxsize=1024)
def _parse(query: str, aliases: tuple[tuple[str, tuple[str, ...]], ...]) -> Node:
    if not query.strip():
        raise QueryError("the query is empty; write some words, e.g. trump AND putin.")
    try:
        parsed = parser.parse(query)
    except ParseError as e:
        m = _POSITION.search(str(e))
        if m:
            raise QueryError(f"position {int(m.group(2)) + 1}: unexpected {m.group(1)!r}. Check "
                             f"the operators and parentheses around it.") from None
        raise QueryError("unexpected end of the query: a parenthesis or quote is not closed, "
                         "or an operator has nothing after it.") from None
    except (ArithmeticError, ValueError):  # found by fuzzing: luqum reads `a~.`, `a^.` as numbers
        raise QueryError("the number after ~ or ^ is not a number; write e.g. "
                         "\"trump putin\"~12.") from None
    compiled = Compiler(dict(aliases)).compile(parsed)
    if isinstance(compiled, Not):
        raise QueryError("the query only excludes; add at least one word to look for.")
    return compiled


@dataclass(frozen=True)
class Verdict:
    matched: bool
    score: float
    terms: tuple[str, ...]  # "field:term", sorted
    snippet: str = ""


def evaluate(query: str | Node, doc: Document,
             aliases: Mapping[str, Sequence[str]] | None = None) -> Verdict:
    node = parse_query(query, aliases) if isinstance(query, str) else query
    hits = node.match(doc, ("title", "text"))
    if hits is None:
        return Verdict(False, 0.0, ())
    lead = set(doc.raw["lead"].values())
    terms: set[str] = set()
    score = 0.0
    for f, t in hits:
        # A term of the text that also stands in the lead counts as lead evidence.
        if f == "text" and all(w in lead for w in tokens(t)):
            f = "lead"
        if f"{f}:{t}" not in terms:
            terms.add(f"{f}:{t}")
            score += FIELD_WEIGHTS.get(f, 0.0)
    return Verdict(True, round(score, 2), tuple(sorted(terms)), snippet(doc, hits))


def snippet(doc: Document, hits: Hits) -> str:
    """The sentences that hold the most matched words, with those words in **bold**."""
    words = {w for f, t in hits if f in TEXT_FIELDS for w in tokens(t)}
    if not words:
        return ""
    ranked = []
    for i, (s, have) in enumerate(zip(doc.sentences, doc.sentence_words, strict=True)):
        found = have & words
        if found:
            ranked.append((-len(found), i, s))
    best = sorted(sorted(ranked)[:SNIPPET_SENTENCES], key=lambda r: r[1])
    return " … ".join(_bold(s, words) for _, _, s in best)


def _bold(sentence: str, words: set[str]) -> str:
    return _TOKEN.sub(lambda m: f"**{m.group(0)}**" if fold(m.group(0)) in words
                      else m.group(0), sentence)
