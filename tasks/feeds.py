"""Stages 1 and 4: which feeds are due, and keeping the new entries of the feeds we polled.

The feeds table follows the config on every run. A run polls its feeds in batches ([ingest]
chunk_feeds): each batch's outcomes go to fetch_log and its entries to entries in one
transaction; once every batch is in, the feeds' validators, health and next due times go to
feeds in another (whether the run was offline depends on every poll). Entries already known are
not fetched again; entries whose page fetch failed for a passing reason stay pending and are
retried by later runs. A run holds its pending entries' URLs only, and reads each chunk's
entries when it fetches their pages.

Scheduling, after Media Cloud's rss-fetcher: a feed is due again after its interval (the run
period, or longer when the feed's ttl / sy:updatePeriod / Cache-Control asks, up to
`max_interval_min`). Failures add weight (hard 1, temp 0.5, soft 0.25) and the interval doubles
per unit of weight, up to once a day; one success clears the weight. A feed is never disabled
for failing. When every feed polled, on at least `offline_min_hosts` hosts, failed at the
network level, the fault is ours: the run is recorded offline and no feed's health changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from newswatch.config import Config
from tasks import stage
from tasks.models import Entry, FeedPoll, FeedState, FetchResult
from tasks.parse import parse_feeds
from tasks.shards import Shard
from warehouse import db


def due_feeds(cfg: Config, now: datetime, all_feeds: bool = False,
              shard: Shard | None = None) -> list[FeedState]:
    """The feeds due now (all enabled ones with all_feeds), of one shard when given. The feeds
    table follows the whole config whichever shard runs."""
    rows = [
        {"feed_url": f.url, "name": f.name or f.url, "outlet": f.outlet or f.name or "",
         "local": f.local, "enabled": f.enabled, "added_at": now}
        for f in cfg.feeds
    ]
    due = db.sync_and_select_due(cfg.warehouse_path, rows, now, all_feeds)
    if shard is not None:
        due = [r for r in due if shard.holds(r["feed_url"])]
    return [FeedState(url=r["feed_url"], name=r["name"], outlet=r["outlet"], local=r["local"],
                      etag=r["etag"], last_modified=r["last_modified"],
                      body_hash=r["body_hash"], failure_weight=r["failure_weight"],
                      error_count=r["error_count"], interval_min=r["interval_min"],
                      conditional_polls=r["conditional_polls"]) for r in due]


FAILURE_WEIGHT = {"hard": 1.0, "temp": 0.5, "soft": 0.25}  # how much each failure slows a feed
NETWORK_REASONS = {"connect_error", "dns_error", "timeout", "transport_error"}
SLACK = timedelta(minutes=1)  # a run starting a little early still finds the feed due


def sends_validators(cfg: Config, feed: FeedState) -> bool:
    """Conditional GET, except every `unconditional_every`-th poll: a server that answers 304
    (or repeats an old ETag) for a changed feed cannot hide new entries for long."""
    return feed.conditional_polls + 1 < cfg.fetch.unconditional_every


def is_offline(cfg: Config, polls: list[FeedPoll]) -> bool:
    remote = [p for p in polls if not p.feed.local]
    hosts = {urlsplit(p.feed.url).hostname for p in remote}
    return (len(hosts) >= cfg.fetch.offline_min_hosts
            and all(p.fetch.reason in NETWORK_REASONS for p in remote))


def next_state(cfg: Config, p: FeedPoll, offline: bool) -> dict[str, Any]:
    """The feed's row after this poll: validators, health, interval and next due time."""
    f, feed = p.fetch, p.feed
    fc = cfg.fetch
    ok = p.status in ("ok", "not_modified")
    interval = feed.interval_min or fc.poll_interval_min
    if ok and p.interval_hint is not None:
        interval = min(max(p.interval_hint, fc.poll_interval_min), fc.max_interval_min)
    elif ok and p.status == "ok":
        interval = fc.poll_interval_min  # the feed dropped its hint
    weight, errors = feed.failure_weight, feed.error_count
    if ok:
        weight, errors = 0.0, 0
    elif not offline:
        weight, errors = weight + FAILURE_WEIGHT[p.status], errors + 1
    wait = min(interval * 2 ** weight, fc.max_backoff_min)
    due = f.fetched_at + timedelta(minutes=wait) - SLACK
    if f.retry_after_s:  # the server asked for a pause
        due = max(due, f.fetched_at + timedelta(seconds=min(f.retry_after_s,
                                                               fc.max_backoff_min * 60)))
    fresh = p.status == "ok"
    conditional = sends_validators(cfg, feed) and bool(feed.etag or feed.last_modified)
    return {
        "feed_url": feed.url, "status": p.status, "reason": p.reason,
        "etag": f.headers.get("etag") if fresh else feed.etag,
        "last_modified": f.headers.get("last-modified") if fresh else feed.last_modified,
        "body_hash": p.body_hash or feed.body_hash, "fetched_at": f.fetched_at,
        "next_due_at": due, "error_count": errors, "failure_weight": weight,
        "interval_min": interval, "conditional_polls":
            feed.conditional_polls + 1 if conditional else 0,
    }


def record_entries(cfg: Config, run_id: str, polls: list[FeedPoll]) -> tuple[int, list[FeedPoll]]:
    """Store a batch of polls' fetch log and entries, in one transaction. Returns how many
    entries are new and the polls without their entries and bodies: what the feeds' state is
    decided from once every batch is in (`record_feed_state`)."""
    now = datetime.now(UTC)
    fetch_log, entries = [], []
    for p in polls:
        fetch_log.append(p.fetch.log_row(run_id, "feed", p.feed.url, p.status, p.reason))
        entries += [{
            "entry_url": e.entry_url, "feed_url": e.feed_url, "guid": e.guid, "title": e.title,
            "summary": e.summary, "published_at": e.published_at, "first_seen_at": now,
            "content": e.content, "author": e.author,
        } for e in p.entries]
    new = db.record_entries(cfg.warehouse_path, fetch_log, entries)
    return len(new), [replace(p, entries=(), fetch=p.fetch.without_body()) for p in polls]


def record_feed_state(cfg: Config, polls: list[FeedPoll]) -> bool:
    """Every polled feed's validators, health and next due time, in one transaction, once all
    the run's polls are known: whether the run was offline depends on all of them. Returns
    whether it was. A run that dies before this loses nothing: the feeds keep their old state
    and are polled again, and entries already stored are not new then."""
    offline = is_offline(cfg, polls)
    db.record_feed_state(cfg.warehouse_path, [next_state(cfg, p, offline) for p in polls])
    return offline


def pending_pages(cfg: Config, shard: Shard | None = None) -> tuple[str, ...]:
    """The URLs of the entries whose page is still to fetch, the oldest first: this shard's
    (an entry belongs to the shard of the feed that first listed it), so a page is fetched by
    one worker. Only the URLs: a backlog's entries are read as its chunks are taken
    (`pending_chunks`)."""
    return tuple(url for url, feed_url in
                 db.pending_keys(cfg.warehouse_path, cfg.fetch.max_page_attempts)
                 if shard is None or shard.holds(feed_url))


def pending_entries(cfg: Config, urls: Sequence[str]) -> list[Entry]:
    """The pending entries with these URLs, whole, in the URLs' order."""
    rows = {r["entry_url"]: r for r in db.pending_entries(cfg.warehouse_path, urls)}
    return [Entry(**rows[u]) for u in urls if u in rows]


# Reading entries costs a warehouse connection and a query, ~20 ms: for a backlog of cheap
# pages, one read a chunk was 300 reads and ~6 s of a run's critical path. Ten chunks' entries
# (2,000 by default, ~4 MB) are read at once.
CHUNKS_PER_READ = 10


def pending_chunks(cfg: Config, chunks: Sequence[Sequence[str]],
                   per_read: int = CHUNKS_PER_READ) -> Iterator[list[Entry]]:
    """Each chunk's pending entries, whole and in order, read `per_read` chunks at a time as
    the chunks are taken: a run holds a few chunks' entries, never its whole backlog's."""
    for i in range(0, len(chunks), per_read):
        window = chunks[i:i + per_read]
        got = pending_entries(cfg, [u for c in window for u in c])
        by_url = {e.entry_url: e for e in got}
        for c in window:
            yield [by_url[u] for u in c if u in by_url]


@stage("due-feeds")
def due_feeds_task(cfg: Config, now: datetime, all_feeds: bool = False,
                   shard: Shard | None = None) -> list[FeedState]:
    return due_feeds(cfg, now, all_feeds, shard)


@stage("parse-feeds")
def parse_feeds_task(fetched: list[tuple[FeedState, FetchResult]],
                     pool: Executor | None = None) -> list[FeedPoll]:
    return parse_feeds(fetched, pool)


@stage("keep-new-entries")
def record_entries_task(cfg: Config, run_id: str,
                        polls: list[FeedPoll]) -> tuple[int, list[FeedPoll]]:
    return record_entries(cfg, run_id, polls)


@stage("feed-state")
def record_feed_state_task(cfg: Config, polls: list[FeedPoll]) -> bool:
    return record_feed_state(cfg, polls)
