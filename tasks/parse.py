"""Stage 3: parse fetched feeds with feedparser. feedparser only parses bytes we fetched; it gets
the response headers so it can honour the HTTP charset. Entry links are resolved against the
URL the feed was fetched from."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
import lxml.html
from lxml.etree import ParserError

from tasks import stage
from tasks.models import Entry, FeedPoll, FeedState, FetchResult
from tasks.urls import normalize_url


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


def parse_feed(feed: FeedState, fetch: FetchResult) -> FeedPoll:
    if not fetch.ok:
        return FeedPoll(feed, fetch, fetch.status, fetch.reason)
    base = fetch.final_url or feed.url
    headers = {k: v for k, v in fetch.headers.items() if k == "content-type"}
    if base.startswith(("http://", "https://")):
        headers["content-location"] = base  # feedparser mangles file:/// bases; we join below
    parsed = feedparser.parse(fetch.body, response_headers=headers)
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
        return FeedPoll(feed, fetch, "ok", "no_entries")
    reason = "parsed_with_warnings" if parsed.bozo else "parsed"
    return FeedPoll(feed, fetch, "ok", reason, tuple(entries))


def parse_feeds(fetched: list[tuple[FeedState, FetchResult]]) -> list[FeedPoll]:
    return [parse_feed(feed, fetch) for feed, fetch in fetched]


@stage("parse-feeds")
def parse_feeds_task(fetched: list[tuple[FeedState, FetchResult]]) -> list[FeedPoll]:
    return parse_feeds(fetched)
