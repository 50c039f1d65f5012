"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), read into the same shape feedparser
gives RSS and Atom, so the rest of the parse path does not know the difference.

feedparser does not read JSON. A body is taken for JSON when its media type says so
(`application/feed+json`, `application/json`, any `+json`) or when it starts with `{`, which no
XML feed does. Anything wrong comes back as a parse with `bozo` set and a fixed `error` reason
(never an exception): not JSON at all, JSON that is not a JSON Feed, a version we do not know,
`items` that is not a list. Fields of the wrong type are treated as absent, as the spec asks
readers to ignore what they do not understand.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from feedparser import FeedParserDict

VERSIONS = ("https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1")
JSON_TYPES = ("application/feed+json", "application/json")


def looks_like_json(body: bytes, content_type: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in JSON_TYPES or kind.endswith("+json"):
        return True
    return body[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v.strip() else None


def _date(v: Any) -> time.struct_time | None:
    """RFC 3339, as the spec says, strictly: a malformed date is no date rather than a guess
    (feedparser's lenient parser reads `99999-99-99` as 9999-11-01)."""
    s = _str(v)
    if s is None:
        return None
    try:
        when = datetime.fromisoformat(s.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC).timetuple()
    except (ValueError, OverflowError):  # out of range once moved to UTC
        return None


def _author(item: dict[str, Any], feed: dict[str, Any]) -> str | None:
    """1.1's `authors` first, then 1.0's `author`; an item without either has the feed's."""
    for source in (item, feed):
        people = source.get("authors")
        if not isinstance(people, list):
            people = [source.get("author")]
        names = [p["name"].strip() for p in people
                 if isinstance(p, dict) and _str(p.get("name"))]
        if names:
            return ", ".join(names)
    return None


def _item(raw: dict[str, Any], feed: dict[str, Any]) -> FeedParserDict:
    ident = raw.get("id")
    if isinstance(ident, bool):  # spec: a string; publishers also send numbers
        ident = None
    elif isinstance(ident, int):
        ident = str(ident)
    ident = _str(ident)
    link = _str(raw.get("url")) or _str(raw.get("external_url"))
    if link is None and ident and ident.startswith(("https://", "http://")):
        link = ident  # the spec's ideal id is the item's URL
    out = FeedParserDict(
        id=ident, link=link,
        title=_str(raw.get("title")), summary=_str(raw.get("summary")),
        published_parsed=_date(raw.get("date_published")),
        updated_parsed=_date(raw.get("date_modified")), author=_author(raw, feed),
    )
    content = []
    if _str(raw.get("content_html")):
        content.append(FeedParserDict(type="text/html", value=raw["content_html"]))
    if _str(raw.get("content_text")):
        content.append(FeedParserDict(type="text/plain", value=raw["content_text"]))
    if content:
        out["content"] = content
    if not out.summary and content:  # what a timeline would show, as RSS's description
        out["summary"] = content[0].value
    return out


def _failed(reason: str, version: str = "") -> FeedParserDict:
    return FeedParserDict(bozo=1, error=reason, version=version, feed=FeedParserDict(),
                          entries=[])


def parse_json_feed(body: bytes) -> FeedParserDict:
    """A JSON Feed as feedparser would give it: `version` (json1 / json11), `feed.title`,
    `entries` with link, id, title, summary, content, author and parsed dates."""
    try:
        doc = json.loads(body)  # bytes: UTF-8 (with or without BOM), -16 or -32, per RFC 8259
    except (ValueError, RecursionError):  # bad JSON or bytes; > 4,300-digit ints; deep nesting
        return _failed("not_json")
    if not isinstance(doc, dict) or not isinstance(doc.get("version"), str):
        return _failed("not_a_json_feed")
    version = doc["version"].strip().rstrip("/").replace("http://", "https://", 1)
    if version not in VERSIONS:
        return _failed("unknown_json_feed_version")
    name = "json1" if version == VERSIONS[0] else "json11"
    items = doc.get("items")
    if not isinstance(items, list):
        return _failed("json_feed_items_not_a_list", name)
    entries = [_item(i, doc) for i in items if isinstance(i, dict)]
    return FeedParserDict(
        bozo=int(len(entries) != len(items)), version=name, entries=entries,
        error="json_feed_items_not_objects" if len(entries) != len(items) else None,
        feed=FeedParserDict(title=_str(doc.get("title")) or "",
                            link=_str(doc.get("home_page_url"))),
    )
