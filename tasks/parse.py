"""Stage 3: parse fetched feeds with feedparser. feedparser only parses bytes we fetched; it gets
the response headers so it can honour the HTTP charset. Where its rules would make mojibake
(UTF-8 bytes under a stale single-byte label, a label Python does not know), we decode by our
rules (tasks/encoding.py) and hand it UTF-8 that says so. Entry links are resolved against the
URL the feed was fetched from. A body identical to the last one is not parsed again. The feed's
own polling hints (ttl, sy:updatePeriod/Frequency, Cache-Control max-age) are read here."""

from __future__ import annotations

import calendar
import hashlib
import re
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
import lxml.html
from lxml.etree import ParserError

from tasks import stage
from tasks.encoding import stale_single_byte_label
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
            return datetime.fromtimestamp(calendar.timegm(t), UTC)
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


def parse_bytes(body: bytes, headers: dict[str, str]) -> feedparser.FeedParserDict:
    """feedparser over our bytes and headers, corrected where its charset rules would fail."""
    if stale_single_byte_label(body, headers.get("content-type")):
        fixed = _PROLOG.sub(rb"\1utf-8\3", body, count=1)  # the bytes are UTF-8 already
        headers = {**headers, "content-type": "application/xml; charset=utf-8"}
        return feedparser.parse(fixed, response_headers=headers)
    return feedparser.parse(body, response_headers=headers)


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
    for item in parsed.entries:
        link = item.get("link")
        if not link:
            continue
        entries.append(Entry(
            entry_url=normalize_url(urljoin(base, link)),
            feed_url=feed.url,
            guid=item.get("id"),
            title=html_to_text(item.get("title")),
            summary=html_to_text(item.get("summary")),
            published_at=_when(item),
            outlet=feed.outlet,
        ))
    if not entries:
        if parsed.bozo and not parsed.version:
            return FeedPoll(feed, fetch, "soft", "not_a_feed")
        if parsed.bozo:
            return FeedPoll(feed, fetch, "soft", "malformed_feed")
        return FeedPoll(feed, fetch, "ok", "no_entries", body_hash=digest, interval_hint=hint)
    reason = "parsed_with_warnings" if parsed.bozo else "parsed"
    return FeedPoll(feed, fetch, "ok", reason, tuple(entries), body_hash=digest,
                    interval_hint=hint)


def parse_feeds(fetched: list[tuple[FeedState, FetchResult]]) -> list[FeedPoll]:
    return [parse_feed(feed, fetch) for feed, fetch in fetched]


@stage("parse-feeds")
def parse_feeds_task(fetched: list[tuple[FeedState, FetchResult]]) -> list[FeedPoll]:
    return parse_feeds(fetched)
