"""Fuzz targets: everything we read from strangers, with hypothesis strategies that make both
raw bytes and structured inputs (JSON Feeds, RSS, TOML, OPML, queries) and mutate seed files.

A target passes an input when it returns normally or raises one of our documented error types
(QueryError, ConfigError); anything else is a crash. tests/test_fuzz.py runs each target for a
few hundred examples in CI; `python bench/fuzz.py TARGET --seconds N` runs one for longer.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
FEED_STATUSES = {"ok", "not_modified", "soft", "temp", "hard"}
PAGE_STATUSES = {"ok", "no_article", "failed"}


# --- seeds -----------------------------------------------------------------------------------

def _files(*globs: tuple[Path, str], limit: int = 400, max_bytes: int = 300_000) -> list[bytes]:
    out = []
    for root, pattern in globs:
        if not root.exists():
            continue
        for f in sorted(root.glob(pattern)):
            if f.is_file() and f.stat().st_size <= max_bytes:
                out.append(f.read_bytes())
            if len(out) >= limit:
                return out
    return out


def feed_seeds() -> list[bytes]:
    """The repo's own feeds, plus the shared corpus's when NEWSWATCH_CORPUS names it."""
    roots = [(ROOT / "seeds" / "fixture" / "feeds", "*"), (ROOT / "tests" / "feeds", "**/*")]
    corpus = os.environ.get("NEWSWATCH_CORPUS")
    if corpus:
        roots.append((Path(corpus) / "feeds", "**/*.xml"))
        roots.append((Path(corpus) / "feeds", "**/*.json"))
    return _files(*roots)


def page_seeds() -> list[bytes]:
    roots = [(ROOT / "seeds" / "fixture" / "sites", "**/*.html")]
    corpus = os.environ.get("NEWSWATCH_CORPUS")
    if corpus:
        roots.append((Path(corpus) / "extraction", "**/source.html"))
    return _files(*roots, limit=100)


# --- strategies ------------------------------------------------------------------------------

def mutated(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """A seed cut, spliced, or with bytes overwritten or inserted."""
    if not seeds:
        return st.binary(max_size=2000)

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(0, 6))):
            op = draw(st.sampled_from(["cut", "flip", "insert", "splice"]))
            at = draw(st.integers(0, max(len(data) - 1, 0)))
            if op == "cut":
                del data[at:at + draw(st.integers(1, 4096))]
            elif op == "flip" and data:
                data[at] = draw(st.integers(0, 255))
            elif op == "insert":
                data[at:at] = draw(st.sampled_from(
                    [b"<", b">", b"&", b"]]>", b"<!--", b"\x00", b"\xff\xfe", b"&#0;", b'"',
                     b"{", b"}", b"[", b"1e999999", b"9" * 5000, b"<![CDATA[", b"\xc3", b"\n"]))
            elif op == "splice":
                other = draw(st.sampled_from(seeds))
                data[at:] = other[draw(st.integers(0, max(len(other) - 1, 0))):]
        return bytes(data)

    return mutate()


JSON_LEAF = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
             | st.text(max_size=40) | st.sampled_from(["https://e.example/a", "/rel", "#x",
                                                       "2026-11-27T10:00:00Z", "99999-01-01"]))
JSON_ANY = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=20)
ITEM_KEYS = ["id", "url", "external_url", "title", "content_html", "content_text", "summary",
             "date_published", "date_modified", "authors", "author", "tags", "attachments"]


@st.composite
def json_feeds(draw: st.DrawFn) -> bytes:
    item = st.dictionaries(st.sampled_from(ITEM_KEYS), JSON_ANY, max_size=8)
    doc = {
        "version": draw(st.sampled_from(["https://jsonfeed.org/version/1",
                                         "https://jsonfeed.org/version/1.1",
                                         "http://jsonfeed.org/version/1/", "1.1"]) | JSON_ANY),
        "title": draw(JSON_ANY),
        "items": draw(st.lists(item | JSON_ANY, max_size=6) | JSON_ANY),
    }
    return json.dumps(doc, allow_nan=True).encode()


TEXT = st.text(max_size=30)


@st.composite
def rss_feeds(draw: st.DrawFn) -> bytes:
    def item() -> str:
        fields = draw(st.lists(st.sampled_from(["title", "link", "guid", "description",
                                                "pubDate", "content:encoded"]), max_size=6))
        return "<item>" + "".join(f"<{f}>{draw(TEXT | st.sampled_from(['#a', 'p#b', '/x']))}"
                                  f"</{f}>" for f in fields) + "</item>"
    items = "".join(item() for _ in range(draw(st.integers(0, 6))))
    return (f'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>{draw(TEXT)}</title>{items}</channel></rss>").encode(
                "utf-8", "surrogatepass")


CONTENT_TYPES = st.sampled_from([None, "application/rss+xml", "application/atom+xml",
                                 "text/xml; charset=iso-8859-1", "application/feed+json",
                                 "application/json", "text/html; charset=utf-8",
                                 "text/plain; charset=bogus-42", "application/xml; charset=utf-16"])

QUERY_ATOMS = st.sampled_from(["trump", "putin", "AND", "OR", "NOT", "(", ")", '"', "~", "~3",
                               "*", "cal*", "title:", "outlet:", "lang:", "^2", "+", "-", "[",
                               "]", "TO", "{", "}", ":", "\\", "?", "AND NOT", '"a b"~4', "~.",
                               "^1.2"])
QUERIES = (st.lists(QUERY_ATOMS | st.text(max_size=8), max_size=12).map(" ".join)
           | st.text(max_size=60))

TOML_VALUES = st.sampled_from(['1', '-5', '0.5', '1e309', '"x"', '""', 'true', '[]', '[1, "a"]',
                               '{a = 1}', '"http://127.0.0.1/f"', '"apnews.com wtop.com"',
                               '"10.0.0.0/8"', '"not a cidr"', '99999999999999999999', 'nan'])
CONFIG_KEYS = st.sampled_from(["path", "lock_wait_s", "feeds", "topics", "user_agent",
                               "connect_timeout_s", "allowed_networks", "min_article_chars",
                               "workers", "near_duplicate", "log", "retention_days",
                               "syndication_partners", "nope", "allow_private_networks"])
SECTIONS = st.sampled_from(["warehouse", "sources", "fetch", "extract", "alerts", "stories",
                            "archive", "dedup", "bogus", "fetch.sub"])
FEED_KEYS = st.sampled_from(["url", "name", "outlet", "local", "enabled", "extra"])
TOPIC_KEYS = st.sampled_from(["name", "query", "channels", "min_score", "delivery",
                              "max_alerts_per_hour", "enabled", "description", "aliases"])


@st.composite
def toml_docs(draw: st.DrawFn, sections: st.SearchStrategy[str], keys: st.SearchStrategy[str],
              array: bool = False) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(sections)
        lines.append(f"[[{name}]]" if array else f"[{name}]")
        for _ in range(draw(st.integers(0, 5))):
            value = draw(TOML_VALUES | QUERIES.map(json.dumps))
            lines.append(f"{draw(keys)} = {value}")
    text = "\n".join(lines)
    if draw(st.booleans()):  # and sometimes damage it
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["=", "[", '"', "\n=\n", "\x00", "]]"])) + text[at:]
    return text


@st.composite
def opml_docs(draw: st.DrawFn) -> bytes:
    outlines = "".join(
        f'<outline {draw(st.sampled_from(["xmlUrl", "xmlurl", "text", "title", "type"]))}='
        f'"{draw(TEXT.map(lambda s: s.replace(chr(34), "")))}"/>'
        for _ in range(draw(st.integers(0, 5))))
    body = f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>'
    return body.encode("utf-8", "surrogatepass")


# --- targets ---------------------------------------------------------------------------------

def check_feed(data: tuple[bytes, str | None]) -> None:
    from tasks.models import FeedState, FetchResult
    from tasks.parse import parse_feed

    body, content_type = data
    url = "https://feeds.example/f"
    feed = FeedState(url=url, name="f", outlet="O", local=False)
    fetch = FetchResult(url=url, status="ok", reason="http_200", fetched_at=datetime.now(UTC),
                        final_url=url, http_status=200,
                        headers={"content-type": content_type} if content_type else {},
                        body=body)
    poll = parse_feed(feed, fetch)
    assert poll.status in FEED_STATUSES and poll.reason, poll
    assert all(isinstance(e.entry_url, str) and e.entry_url for e in poll.entries), poll


def check_page(data: tuple[bytes, str | None]) -> None:
    from tasks.extract import extract_page

    body, content_type = data
    got = extract_page("https://news.example/a", body, 250, content_type)
    assert got.status in PAGE_STATUSES, got


def check_query(query: str) -> None:
    from tasks.topics import Document, QueryError, evaluate, parse_query

    try:
        node = parse_query(query, {"putin": ["Vladimir Putin"]})
    except QueryError:
        return
    evaluate(node, Document(title="Trump calls Putin", text="Trump said he called Putin."))


def _in_dir(files: dict[str, str | bytes], load: Callable[[Path], Any]) -> None:
    from newswatch.config import ConfigError

    with tempfile.TemporaryDirectory() as tmp:
        for name, content in files.items():
            path = Path(tmp) / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8", errors="surrogatepass")
        with contextlib.suppress(ConfigError):
            load(Path(tmp))


def check_config(text: str) -> None:
    from newswatch.config import load_config

    _in_dir({"newswatch.toml": text, "feeds.toml": "", "topics.toml": ""},
            lambda d: load_config(d / "newswatch.toml"))


def check_feeds_file(text: str) -> None:
    from newswatch.config import load_feeds

    _in_dir({"feeds.toml": text}, lambda d: load_feeds(d / "feeds.toml"))


def check_topics_file(text: str) -> None:
    from newswatch.config import load_topics

    _in_dir({"topics.toml": text}, lambda d: load_topics(d / "topics.toml"))


def check_opml(body: bytes) -> None:
    from newswatch.feeds_file import read_opml

    _in_dir({"f.opml": body}, lambda d: read_opml(d / "f.opml"))


@dataclass(frozen=True)
class Target:
    check: Callable[[Any], None]
    strategy: Callable[[], st.SearchStrategy[Any]]  # built on first use: seeds are read then
    warm: Any  # an input that imports what the check needs, before any input is timed


TARGETS: dict[str, Target] = {
    "feed": Target(check_feed, lambda: st.tuples(
        mutated(feed_seeds()) | json_feeds() | rss_feeds() | st.binary(max_size=500),
        CONTENT_TYPES), (b"", None)),
    "page": Target(check_page, lambda: st.tuples(
        mutated(page_seeds()) | st.binary(max_size=500), CONTENT_TYPES), (b"<p>x</p>", None)),
    "query": Target(check_query, lambda: QUERIES, "trump"),
    "config": Target(check_config, lambda: toml_docs(SECTIONS, CONFIG_KEYS) | st.text(
        max_size=200), ""),
    "feeds-file": Target(check_feeds_file, lambda: toml_docs(st.just("feed"), FEED_KEYS, True),
                         ""),
    "topics-file": Target(check_topics_file, lambda: toml_docs(
        st.sampled_from(["topic", "topic.aliases", "aliases"]), TOPIC_KEYS, True), ""),
    "opml": Target(check_opml, lambda: opml_docs() | mutated([
        b'<?xml version="1.0"?><opml version="2.0"><body><outline text="a" '
        b'xmlUrl="https://e.example/f"/></body></opml>']) | st.binary(max_size=300), b""),
}
