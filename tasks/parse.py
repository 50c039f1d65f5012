"""Stage 3: parse fetched feeds with feedparser. feedparser only parses bytes we fetched; it gets
the response headers so it can honour the HTTP charset. Where its rules would make mojibake
(UTF-8 bytes under a stale single-byte label, a label Python does not know), we decode by our
rules (tasks/encoding.py) and hand it UTF-8 that says so. Entry links are resolved against the
URL the feed was fetched from. A body identical to the last one is not parsed again. The feed's
own polling hints (ttl, sy:updatePeriod/Frequency, Cache-Control max-age) are read here.

JSON Feeds (tasks/jsonfeed.py) come back in feedparser's shape and take the same path.

Entry identity: an entry is its normalised link, which drops the fragment. When several items
of one feed link to the same page (a blog's `page#post-12` anchors, a podcast whose episodes
all link to the show), that page is nobody's article: each item keeps its own fragment when it
has a distinct one, else its distinct guid (`page#guid=…`); it carries its own content
(content:encoded, Atom content, JSON Feed content_html/text, else its summary), which becomes
the article (method `feed_content`), and its page is not fetched. Items whose link is theirs
alone, and items that nothing tells apart (one story listed twice), are ordinary entries."""

from __future__ import annotations

import calendar
import hashlib
import re
from collections import Counter, defaultdict
from concurrent.futures import Executor
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import quote, urljoin, urlsplit

import feedparser
import lxml.html
from lxml.etree import ParserError

from tasks.encoding import stale_single_byte_label
from tasks.jsonfeed import looks_like_json, parse_json_feed
from tasks.models import Entry, FeedPoll, FeedState, FetchResult
from tasks.urls import normalize_url

_PROLOG = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])([\w.:-]+)([\"'])", re.I)
UPDATE_PERIOD_MIN = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200,
                     "yearly": 525600}
_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)", re.I)


def _when(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = entry.get(key)
        if t:
            try:
                return datetime.fromtimestamp(calendar.timegm(t), UTC)
            except (ValueError, OverflowError, OSError):  # year 0 or beyond 9999
                continue
    return None


def html_to_text(fragment: str | None) -> str | None:
    if not fragment or not fragment.strip():
        return None
    if "<" not in fragment:
        return " ".join(fragment.split())
    try:
        text = lxml.html.fromstring(fragment).text_content()
    except (ParserError, ValueError):
        return " ".join(fragment.split())
    return " ".join(text.split()) or None


_BLOCKS = ("p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
           "tr", "section", "article", "figcaption")


def content_to_text(value: str | None, kind: str | None = None) -> str | None:
    """An item's full content as article text: paragraphs kept, one per line."""
    if not value or not value.strip():
        return None
    if kind != "text/plain" and "<" in value:
        try:
            doc = lxml.html.fromstring(value)
        except (ParserError, ValueError):
            doc = None
        if doc is not None:
            for el in doc.iter(*_BLOCKS):
                el.tail = "\n" + (el.tail or "")
            value = doc.text_content()
    lines = (" ".join(line.split()) for line in value.splitlines())
    return "\n".join(line for line in lines if line) or None


def item_content(item: feedparser.FeedParserDict) -> str | None:
    for c in item.get("content") or []:
        text = content_to_text(c.get("value"), c.get("type"))
        if text:
            return text
    return content_to_text(item.get("summary"))


def parse_bytes(body: bytes, headers: dict[str, str]) -> feedparser.FeedParserDict:
    """feedparser over our bytes and headers, corrected where its charset rules would fail;
    a JSON Feed read by tasks/jsonfeed.py into the same shape."""
    if looks_like_json(body, headers.get("content-type")):
        return parse_json_feed(body)
    if stale_single_byte_label(body, headers.get("content-type")):
        body = _PROLOG.sub(rb"\1utf-8\3", body, count=1)  # the bytes are UTF-8 already
        headers = {**headers, "content-type": "application/xml; charset=utf-8"}
    try:
        return feedparser.parse(body, response_headers=headers)
    except (ValueError, LookupError):  # found by fuzzing: a NUL in the prolog's encoding name
        return feedparser.FeedParserDict(bozo=1, error="unreadable_feed", version="",
                                         feed=feedparser.FeedParserDict(), entries=[])


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def interval_hint(parsed: feedparser.FeedParserDict, headers: dict[str, str]) -> int | None:
    """The feed's own idea of how often to poll it, in minutes: ttl, then
    sy:updatePeriod/updateFrequency, then Cache-Control max-age."""
    feed = parsed.get("feed", {})
    ttl = str(feed.get("ttl", "")).strip()
    if ttl.isdigit() and int(ttl) > 0:
        return int(ttl)
    period = UPDATE_PERIOD_MIN.get(str(feed.get("sy_updateperiod", "")).strip().lower())
    if period:
        freq = str(feed.get("sy_updatefrequency", "1")).strip()
        return max(1, period // (int(freq) if freq.isdigit() and int(freq) > 0 else 1))
    m = _MAX_AGE.search(headers.get("cache-control", ""))
    return max(1, int(m.group(1)) // 60) if m and int(m.group(1)) > 0 else None


def parse_feed(feed: FeedState, fetch: FetchResult) -> FeedPoll:
    if not fetch.ok:
        return FeedPoll(feed, fetch, fetch.status, fetch.reason)
    digest = body_hash(fetch.body)
    if feed.body_hash == digest:  # a new ETag, or none, for the same bytes
        return FeedPoll(feed, fetch, "not_modified", "same_body", body_hash=digest)
    base = fetch.final_url or feed.url
    headers = {k: v for k, v in fetch.headers.items() if k == "content-type"}
    if base.startswith(("http://", "https://")):
        headers["content-location"] = base  # feedparser mangles file:/// bases; we join below
    parsed = parse_bytes(fetch.body, headers)
    hint = interval_hint(parsed, fetch.headers)
    entries = []
    for item, url, shared in identities(base, parsed.entries):
        entries.append(Entry(
            entry_url=url,
            feed_url=feed.url,
            guid=item.get("id"),
            title=html_to_text(item.get("title")),
            summary=html_to_text(item.get("summary")),
            published_at=_when(item),
            outlet=feed.outlet,
            content=(item_content(item) or "") if shared else None,  # "": shared, no text
            author=html_to_text(item.get("author")) if shared else None,
        ))
    if not entries:
        if parsed.get("error"):  # a JSON Feed's own fixed reason
            return FeedPoll(feed, fetch, "soft", parsed.error)
        if parsed.bozo and not parsed.version:
            return FeedPoll(feed, fetch, "soft", "not_a_feed")
        if parsed.bozo:
            return FeedPoll(feed, fetch, "soft", "malformed_feed")
        return FeedPoll(feed, fetch, "ok", "no_entries", body_hash=digest, interval_hint=hint)
    reason = "parsed_with_warnings" if parsed.bozo else "parsed"
    return FeedPoll(feed, fetch, "ok", reason, tuple(entries), body_hash=digest,
                    interval_hint=hint)


def identities(base: str, items: list[feedparser.FeedParserDict]
               ) -> list[tuple[feedparser.FeedParserDict, str, bool]]:
    """Each linked item with its entry URL, and whether its page is shared with other items
    of this feed (then the URL tells the items apart: see the module's docstring)."""
    linked = [(item, urljoin(base, item["link"])) for item in items if item.get("link")]
    pages = [normalize_url(url) for _, url in linked]
    count = Counter(pages)
    frags: dict[str, Counter[str]] = defaultdict(Counter)
    guids: dict[str, Counter[str]] = defaultdict(Counter)
    for (item, url), page in zip(linked, pages, strict=True):
        if count[page] > 1:
            frags[page][urlsplit(url).fragment] += 1
            guids[page][str(item.get("id") or "")] += 1
    out = []
    for (item, url), page in zip(linked, pages, strict=True):
        if count[page] == 1:
            out.append((item, page, False))
            continue
        frag, guid = urlsplit(url).fragment, str(item.get("id") or "")
        if frag and frags[page][frag] == 1:
            out.append((item, f"{page}#{frag}", True))
        elif guid and guids[page][guid] == 1:
            out.append((item, f"{page}#guid={quote(guid, safe='')}", True))
        else:  # nothing tells it apart: the same item listed twice, an ordinary entry
            out.append((item, page, False))
    return out


# Feeds a worker takes at once: a changed 30-item feed is ~5 ms of feedparser, so 16 make ~80 ms
# of work against ~1 ms of sending them over.
FEEDS_PER_JOB = 16


def parse_feeds(fetched: list[tuple[FeedState, FetchResult]],
                pool: Executor | None = None) -> list[FeedPoll]:
    """Each fetched feed parsed, in order; in `pool`'s worker processes when given (feedparser
    is CPU-bound: 2,000 feeds with a few hundred changed took ~3 s of the run's own core)."""
    if pool is None:
        return [parse_feed(feed, fetch) for feed, fetch in fetched]
    return list(pool.map(parse_feed_job, fetched, chunksize=FEEDS_PER_JOB))


def parse_feed_job(job: tuple[FeedState, FetchResult]) -> FeedPoll:
    """A worker's entry point: the poll comes back without the feed's bytes, which nothing
    after parsing reads (the fetch log keeps their size)."""
    poll = parse_feed(*job)
    return replace(poll, fetch=poll.fetch.without_body()) if poll.fetch.body else poll
