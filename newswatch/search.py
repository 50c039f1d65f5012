"""The query language over every stored article, for the web's search page and topic query box:
what `newswatch topics test` does, kept in memory for paging and never saved.

Articles are read a chunk per short read-only connection (an ingest gets the file between
chunks). A search's hits are cached per warehouse state, so paging through them, or reloading,
does not evaluate the query again until an article is added or changed.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newswatch.config import TopicSpec
from tasks.match import percolate
from tasks.topics import parse_query
from warehouse import db

CACHED_SEARCHES = 32  # a few people paging through a few queries each; a hit list is small


@dataclass(frozen=True)
class Hit:
    article_id: str
    score: float
    snippet: str
    day: str  # publication day (else first seen), ISO


@dataclass
class Found:
    searched: int = 0
    hits: list[Hit] = field(default_factory=list)  # best first, then newest

    @property
    def per_day(self) -> Counter[str]:
        return Counter(h.day for h in self.hits)


_cache: OrderedDict[tuple[Any, ...], Found] = OrderedDict()
_lock = threading.Lock()


def search(path: Path, wait_s: float, query: str,
           aliases: Mapping[str, Sequence[str]] | None = None, min_score: float = 0.0
           ) -> Found:
    """Every stored article matching `query`. Raises QueryError (with the position and the fix)
    for a query that cannot run, before reading anything."""
    parse_query(query, aliases)
    frozen = tuple(sorted((k, tuple(v)) for k, v in (aliases or {}).items()))
    key = (str(path), query, frozen, min_score, db.web_search_version(path, wait_s))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    found = _evaluate(db.web_search_chunks(path, wait_s), query, dict(aliases or {}),
                      min_score)
    with _lock:
        _cache[key] = found
        while len(_cache) > CACHED_SEARCHES:
            _cache.popitem(last=False)
    return found


def _evaluate(chunks: Iterable[list[dict[str, Any]]], query: str,
              aliases: dict[str, Sequence[str]], min_score: float) -> Found:
    topic = TopicSpec(name="search", query=query, min_score=min_score,
                      aliases={k: tuple(v) for k, v in aliases.items()})
    found = Found()
    days: dict[str, str] = {}

    def rows() -> Iterator[dict[str, Any]]:
        for chunk in chunks:
            for row in chunk:
                found.searched += 1
                when = row["published_at"] or row["first_seen_at"]
                days[row["article_id"]] = when.date().isoformat()
                yield row
            days.clear()  # percolate has yielded every match of the chunk by now

    hits = [Hit(m.article_id, m.score, m.snippet, days[m.article_id])
            for m in percolate([topic], rows())]
    found.hits = sorted(hits, key=lambda h: (-h.score, _neg(h.day), h.article_id))
    return found


def _neg(day: str) -> tuple[int, ...]:
    return tuple(-int(x) for x in day.split("-"))
