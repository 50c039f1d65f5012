"""The dataclasses that pass between stages. Every outcome is a status from a closed set plus a
fixed reason string, so the warehouse can count them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tasks.features import StoryFeatures

# Fetch outcomes. ok: got a body; not_modified: 304 to a conditional GET; soft: got an answer but
# nothing usable in it (empty or unparseable feed); temp: worth retrying (timeout, 5xx, 429,
# connection trouble); hard: will not get better by retrying (404, refused address or scheme).
FetchStatus = Literal["ok", "not_modified", "soft", "temp", "hard"]
# Extraction outcomes. fallback: the page had no article text, the feed's summary stands in.
ExtractStatus = Literal["ok", "fallback", "no_article", "failed"]


@dataclass(frozen=True)
class FeedState:
    url: str
    name: str
    outlet: str
    local: bool
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    failure_weight: float = 0.0
    error_count: int = 0
    interval_min: int | None = None
    conditional_polls: int = 0  # polls sent with validators since the last unconditional one


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: FetchStatus
    reason: str
    fetched_at: datetime
    final_url: str | None = None
    http_status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    elapsed_ms: int = 0
    attempts: int = 1  # requests made, retries of passing failures included
    redirects: tuple[str, ...] = ()  # each hop as "301 https://…"
    retry_after_s: float | None = None  # what the server asked for, capped
    body_bytes: int | None = None  # the body's size once the body itself is let go

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def size(self) -> int:
        return len(self.body) if self.body_bytes is None else self.body_bytes

    def without_body(self) -> FetchResult:
        """This fetch once its bytes are done with: its outcome, headers and size."""
        return replace(self, body=b"", body_bytes=self.size) if self.body else self

    def log_row(self, run_id: str, kind: str, url: str, status: str | None = None,
                reason: str | None = None) -> dict[str, Any]:
        """The fetch_log row of this fetch (status/reason may be refined by parsing)."""
        return {"run_id": run_id, "fetched_at": self.fetched_at, "kind": kind, "url": url,
                "final_url": self.final_url, "status": status or self.status,
                "reason": reason or self.reason, "http_status": self.http_status,
                "bytes": self.size, "elapsed_ms": self.elapsed_ms,
                "attempts": self.attempts, "redirects": list(self.redirects)}


@dataclass(frozen=True)
class Entry:
    entry_url: str
    feed_url: str
    guid: str | None
    title: str | None
    summary: str | None
    published_at: datetime | None
    outlet: str
    attempts: int = 0
    # Only for an item whose page is shared with other items of its feed (tasks/parse.py):
    # its own text, which is its article, and its author.
    content: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class FeedPoll:
    """One feed's fetch and parse: what it yielded and how it went."""

    feed: FeedState
    fetch: FetchResult
    status: FetchStatus
    reason: str
    entries: tuple[Entry, ...] = ()
    body_hash: str | None = None  # of a body that parsed (kept to spot the same body again)
    interval_hint: int | None = None  # minutes, from the feed's ttl / sy: / Cache-Control


@dataclass(frozen=True)
class PageFetch:
    entry: Entry
    fetch: FetchResult

    def without_body(self) -> PageFetch:
        """This page once its body is archived and extracted: what is left to store of it
        (the fetch's outcome, headers and size) without the bytes."""
        return replace(self, fetch=self.fetch.without_body()) if self.fetch.body else self


@dataclass(frozen=True)
class Extraction:
    entry: Entry
    status: ExtractStatus
    reason: str
    url: str
    canonical_url: str | None = None
    title: str | None = None
    text: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    outlet: str | None = None
    method: Literal["trafilatura", "feed_summary", "feed_content"] | None = None
    elapsed_ms: int = 0
    features: StoryFeatures | None = None  # computed by the extraction worker
    content_hash: str | None = None  # of `text`, by the extraction worker (see features.py)


@dataclass(frozen=True)
class Article:
    article_id: str
    url: str
    canonical_url: str
    title: str | None
    text: str
    author: str | None
    published_at: datetime | None
    language: str | None
    outlet: str
    feed_url: str
    content_hash: str
    extraction_method: str
    first_seen_at: datetime
    claimed_canonical_url: str | None = None  # another site's URL the page claimed, untrusted


@dataclass(frozen=True)
class Dedup:
    """New articles, sightings (every URL an article was seen at), new versions of known
    articles, and the article each extracted entry turned out to be."""

    articles: tuple[Article, ...]
    entry_article: dict[str, str]  # entry_url -> article_id
    sightings: tuple[dict[str, Any], ...] = ()
    versions: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Match:
    topic: str
    article_id: str
    score: float
    terms: tuple[str, ...]
    snippet: str = ""
    probability: float | None = None  # the topic's relevance model; None: the topic has none
    relevant: bool = True  # the model's verdict at the topic's threshold; only these alert


@dataclass(frozen=True)
class Alert:
    topic: str
    article_id: str
    title: str | None
    outlet: str
    url: str
    published_at: datetime | None
    score: float
    terms: tuple[str, ...]
    snippet: str | None
    channel: str
    outlets: tuple[str, ...] = ()  # the story's outlets so far
    story_first_seen_at: datetime | None = None
    kind: Literal["first", "follow_up"] = "first"
    probability: float | None = None  # the topic's relevance model, when it has one


@dataclass(frozen=True)
class Delivery:
    topic: str
    article_id: str
    kind: str
    channel: str
    status: Literal["sent", "failed"]
    error: str | None
    at: datetime
