"""Stages 1 and 4: which feeds are due, and keeping the new entries of the feeds we polled.

The feeds table follows the config on every run. After a poll, each feed's outcome goes to
fetch_log, its validators and next due time to feeds, and its entries to entries, in one
transaction. Entries already known are not fetched again; entries whose page fetch failed for a
passing reason stay pending and are retried by later runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from newswatch.config import Config
from tasks import stage
from tasks.models import Entry, FeedPoll, FeedState
from warehouse import db


def due_feeds(cfg: Config, now: datetime, all_feeds: bool = False) -> list[FeedState]:
    rows = [
        {"feed_url": f.url, "name": f.name or f.url, "outlet": f.outlet or f.name or "",
         "local": f.local, "enabled": f.enabled, "added_at": now}
        for f in cfg.feeds
    ]
    due = db.sync_and_select_due(cfg.warehouse_path, rows, now, all_feeds)
    return [FeedState(url=r["feed_url"], name=r["name"], outlet=r["outlet"], local=r["local"],
                      etag=r["etag"], last_modified=r["last_modified"]) for r in due]


@dataclass(frozen=True)
class NewEntries:
    new: int  # entries seen for the first time in this run
    to_fetch: tuple[Entry, ...]  # new entries plus earlier ones still pending


def record_polls(cfg: Config, run_id: str, polls: list[FeedPoll]) -> NewEntries:
    now = datetime.now(UTC)
    interval = timedelta(minutes=cfg.fetch.poll_interval_min)
    fetch_log, state, entries = [], [], []
    for p in polls:
        f = p.fetch
        fetch_log.append(f.log_row(run_id, "feed", p.feed.url, p.status, p.reason))
        state.append({
            "feed_url": p.feed.url, "status": p.status, "reason": p.reason,
            "etag": f.headers.get("etag"), "last_modified": f.headers.get("last-modified"),
            "fetched_at": f.fetched_at, "next_due_at": f.fetched_at + interval,
        })
        entries += [{
            "entry_url": e.entry_url, "feed_url": e.feed_url, "guid": e.guid, "title": e.title,
            "summary": e.summary, "published_at": e.published_at, "first_seen_at": now,
        } for e in p.entries]
    new, pending = db.record_polls(cfg.warehouse_path, fetch_log, state, entries)
    to_fetch = tuple(Entry(**r) for r in pending if r["attempts"] < cfg.fetch.max_page_attempts)
    return NewEntries(new=len(new), to_fetch=to_fetch)


@stage("due-feeds")
def due_feeds_task(cfg: Config, now: datetime, all_feeds: bool = False) -> list[FeedState]:
    return due_feeds(cfg, now, all_feeds)


@stage("keep-new-entries")
def record_polls_task(cfg: Config, run_id: str, polls: list[FeedPoll]) -> NewEntries:
    return record_polls(cfg, run_id, polls)
