"""Stages 1 and 4: which feeds are due, and keeping the new entries of the feeds we polled.

The feeds table follows the config on every run. After a poll, each feed's outcome goes to
fetch_log, its validators, health and next due time to feeds, and its entries to entries, in one
transaction. Entries already known are not fetched again; entries whose page fetch failed for a
passing reason stay pending and are retried by later runs.

Scheduling, after Media Cloud's rss-fetcher: a feed is due again after its interval (the run
period, or longer when the feed's ttl / sy:updatePeriod / Cache-Control asks, up to
`max_interval_min`). Failures add weight (hard 1, temp 0.5, soft 0.25) and the interval doubles
per unit of weight, up to once a day; one success clears the weight. A feed is never disabled
for failing. When every feed polled, on at least `offline_min_hosts` hosts, failed at the
network level, the fault is ours: the run is recorded offline and no feed's health changes.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
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


@dataclass(frozen=True)
class NewEntries:
    new: int  # entries seen for the first time in this run
    to_fetch: tuple[Entry, ...]  # new entries plus earlier ones still pending
    offline: bool = False  # every feed failed at the network level: nobody was penalised


def record_polls(cfg: Config, run_id: str, polls: list[FeedPoll],
                 shard: Shard | None = None) -> NewEntries:
    """Store the polls; the entries to fetch are this shard's pending ones (an entry belongs
    to the shard of the feed that first listed it), so a page is fetched by one worker."""
    now = datetime.now(UTC)
    offline = is_offline(cfg, polls)
    fetch_log, state, entries = [], [], []
    for p in polls:
        f = p.fetch
        fetch_log.append(f.log_row(run_id, "feed", p.feed.url, p.status, p.reason))
        state.append(next_state(cfg, p, offline))
        entries += [{
            "entry_url": e.entry_url, "feed_url": e.feed_url, "guid": e.guid, "title": e.title,
            "summary": e.summary, "published_at": e.published_at, "first_seen_at": now,
            "content": e.content, "author": e.author,
        } for e in p.entries]
    new, pending = db.record_polls(cfg.warehouse_path, fetch_log, state, entries)
    to_fetch = tuple(Entry(**r) for r in pending
                     if r["attempts"] < cfg.fetch.max_page_attempts
                     and (shard is None or shard.holds(r["feed_url"])))
    return NewEntries(new=len(new), to_fetch=to_fetch, offline=offline)


@stage("due-feeds")
def due_feeds_task(cfg: Config, now: datetime, all_feeds: bool = False,
                   shard: Shard | None = None) -> list[FeedState]:
    return due_feeds(cfg, now, all_feeds, shard)


@stage("parse-feeds")
def parse_feeds_task(fetched: list[tuple[FeedState, FetchResult]],
                     pool: Executor | None = None) -> list[FeedPoll]:
    return parse_feeds(fetched, pool)


@stage("keep-new-entries")
def record_polls_task(cfg: Config, run_id: str, polls: list[FeedPoll],
                      shard: Shard | None = None) -> NewEntries:
    return record_polls(cfg, run_id, polls, shard)
