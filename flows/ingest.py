"""The ingest flow: wiring only. Each stage is one Prefect task over a batch.

finish what a dead run left → due feeds → batch by batch of `[ingest] chunk_feeds` feeds: fetch
→ parse → keep new entries; the feeds' state → then, chunk by chunk of `[ingest] chunk_pages`
pending pages: fetch pages, extracting and archiving them as they arrive → dedup → load → stories →
match topics → record alerts → finish the chunk; at the end deliver alerts → report (artifact,
events).

A chunk's work is committed before the next chunk is stored, so memory stays bounded whatever
the backlog, and a crash loses at most one chunk: its entries are still pending and the next
run fetches them again, and articles it loaded without their stories, matches or alerts are
finished first by the next run (warehouse table unfinished_articles). While one chunk is
stored, the next one is already being fetched and extracted. Feeds go the same way, and a run
holds its pending pages' URLs only: each chunk's entries are read when it is fetched.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from prefect import flow
from prefect.context import SyncClientContext

from newswatch.config import Config, load_config
from tasks.alerts import deliver_alerts_task, record_alerts_task
from tasks.archive import Archive, Stored
from tasks.dedup import dedup_task
from tasks.extract import Extractor, start_forkserver
from tasks.feeds import (
    due_feeds_task,
    parse_feeds_task,
    pending_chunks,
    pending_pages,
    record_entries_task,
    record_feed_state_task,
)
from tasks.fetch import fetch_and_extract_task, fetch_feeds_task, spread_by_host
from tasks.http import Fetcher
from tasks.load import finish_task, load_task, unfinished_task
from tasks.match import match_topics_task
from tasks.models import Entry, Extraction, FeedPoll, FeedState, Match, PageFetch
from tasks.report import publish_task
from tasks.shards import Shard, parse_shard
from tasks.stories import assign_stories_task
from warehouse import db

# A changed 30-item feed parses in ~5 ms and a page extracts in ~30: six feeds are one page's
# work when a run decides whether its feeds are worth the extraction workers.
FEEDS_PER_PAGE = 6

progress = logging.getLogger("newswatch.progress")
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class RunSummary:
    run_id: str
    shard: str | None = None  # which feeds, by host: "i/N" (tasks/shards.py); None: all
    feeds_polled: int = 0
    feeds_failed: int = 0
    entries_new: int = 0
    pages_fetched: int = 0
    pages_failed: int = 0
    extracted: int = 0
    fallbacks: int = 0
    no_article: int = 0
    articles_new: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    stories_new: int = 0
    events_emitted: int = 0
    matches_new: int = 0
    alerts_new: int = 0
    deliveries_sent: int = 0
    deliveries_failed: int = 0
    offline: bool = False  # every feed failed at the network level; no feed was penalised
    chunks: int = 0
    recovered: int = 0  # articles an earlier, dead run left unfinished, finished by this one
    flow_started: float = 0.0  # time.time() when the flow's body began (after Prefect's start)
    body_seconds: float = 0.0  # the flow's body: every stage, Prefect's start-up excluded
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a stage; a stage run once per chunk adds up. Stages of two chunks overlap
        (one fetches while the other is stored), so the sum can exceed body_seconds."""
        started = time.perf_counter()
        yield
        took = time.perf_counter() - started
        self.stage_seconds[name] = round(self.stage_seconds.get(name, 0.0) + took, 3)

    def counts(self) -> dict[str, int]:
        keys = ("feeds_polled", "entries_new", "pages_fetched", "articles_new", "matches_new",
                "alerts_new")
        return {k: getattr(self, k) for k in keys}


@flow(name="ingest", log_prints=False)
async def ingest(config_path: str | None = None, all_feeds: bool = False,
                 shard: str | None = None) -> RunSummary:
    """One ingest run over the feeds that are due (or all of them with all_feeds); with a
    shard ("i/N"), only the feeds whose host hashes to shard i of N (tasks/shards.py). On a
    lake, runs of different shards go side by side."""
    body = time.perf_counter()
    part = parse_shard(shard) if shard else None  # a bad shard stops the run before it starts
    cfg = load_config(config_path)
    path = cfg.warehouse_path
    run = RunSummary(run_id=uuid.uuid4().hex[:12], flow_started=time.time(),
                     shard=str(part) if part else None)
    with db.writer_lock(path, scope=str(part or "")):
        db.start_run(path, run.run_id, datetime.now(UTC))
        try:
            # One Prefect client for the run's stages (a chunk is stored in a thread, which takes
            # this context with it): without it each stage call makes its own, ~25 ms.
            with SyncClientContext.get_or_create():
                await _stages(cfg, run, all_feeds, part)
            run.body_seconds = round(time.perf_counter() - body, 3)
        except BaseException:
            db.finish_run(path, run.run_id, datetime.now(UTC), "failed", run.counts(),
                          run.stage_seconds)
            raise
        db.finish_run(path, run.run_id, datetime.now(UTC), "ok", run.counts(),
                      run.stage_seconds, run.offline)
    return run


async def _stages(cfg: Config, run: RunSummary, all_feeds: bool, shard: Shard | None) -> None:
    matches: list[Match] = []
    _finish_unfinished(cfg, run, matches)
    with run.stage("due-feeds"):
        feeds = due_feeds_task(cfg, datetime.now(UTC), all_feeds, shard)
    progress.info("%d feed(s) due", len(feeds))
    if feeds and cfg.extract.runner == "processes":
        # The extraction workers' forkserver imports and warms up on a spare core while the
        # feeds download: a run whose pages need workers then forks them at once.
        start_forkserver()
    # Feeds parse in the extraction workers. With many feeds the workers start now and warm up
    # while the feeds download; otherwise they start once the pages are known, if those need them.
    async with Extractor(cfg, len(feeds) // FEEDS_PER_PAGE) as extractor:
        await _feeds_and_pages(cfg, run, feeds, shard, extractor, matches)
    if "match-topics" not in run.stage_seconds:
        # Nothing was fetched or finished: the topic stages still run once, as every run's do
        # (the topic views follow the topics file; stories that grew may owe follow-ups).
        with db.turn(cfg.warehouse_path), run.stage("match-topics"):
            none = match_topics_task(cfg, [])
            with run.stage("record-alerts"):
                stored, alerted = record_alerts_task(cfg, run.run_id, none)
        run.matches_new += stored
        run.alerts_new += len(alerted)
    # One sender per pending delivery: on a lake, another shard's run may be delivering too.
    with db.turn(cfg.warehouse_path), run.stage("deliver-alerts"):
        deliveries = deliver_alerts_task(cfg)
    run.deliveries_sent = sum(d.status == "sent" for d in deliveries)
    run.deliveries_failed = len(deliveries) - run.deliveries_sent
    with run.stage("report"):
        run.events_emitted = publish_task(cfg, run.run_id, run.counts(), matches)


async def _feeds_and_pages(cfg: Config, run: RunSummary, feeds: list[FeedState],
                           shard: Shard | None, extractor: Extractor,
                           matches: list[Match]) -> None:
    """Poll the due feeds and keep their new entries, then fetch, extract and store the pending
    pages chunk by chunk."""
    await _poll_feeds(cfg, run, feeds, extractor)
    with run.stage("keep-new-entries"):
        # A busy host's pages go in every chunk.
        to_fetch = spread_by_host(pending_pages(cfg, shard))
    size = cfg.ingest.chunk_pages
    chunks = [to_fetch[i:i + size] for i in range(0, len(to_fetch), size)]
    progress.info("%d new entr(ies), %d page(s) to fetch%s", run.entries_new, len(to_fetch),
                  f" in {len(chunks)} chunks of {size}" if len(chunks) > 1 else "")
    await extractor.ensure(len(to_fetch))
    async with Fetcher(cfg.fetch, cfg.local_roots()) as fetcher:
        archive = Archive(cfg, run.run_id)

        async def fetch_extract(entries: list[Entry]
                                ) -> tuple[list[PageFetch], list[Extraction], dict[str, Stored]]:
            with run.stage("fetch-extract"):
                return await fetch_and_extract_task(cfg, entries, fetcher, extractor, archive)

        # Entries are read as chunks are taken, before a chunk's store opens the warehouse: a
        # process has one connection to it at a time.
        entries = pending_chunks(cfg, chunks)
        with archive:
            for found in await _one_ahead(len(chunks), lambda: fetch_extract(next(entries)),
                                          lambda got: _store_chunk(cfg, run, *got)):
                matches += found


async def _one_ahead(steps: int, take: Callable[[], Awaitable[T]],
                     store: Callable[[T], R]) -> list[R]:
    """`steps` steps, each taken (`take()`: its synchronous part runs at the call) and then
    stored in a thread, while the event loop takes the next one; nothing of a step is stored
    before the one before it is done, and a store that fails cancels the step taken ahead.
    Returns what each store returned."""
    stored: list[R] = []
    ahead: asyncio.Future[T] | None = None
    for n in range(steps):
        got = await (ahead or take())
        ahead = asyncio.ensure_future(take()) if n + 1 < steps else None
        storing = asyncio.ensure_future(asyncio.to_thread(store, got))
        try:
            stored.append(await asyncio.shield(storing))
        except BaseException:
            if ahead is not None:
                ahead.cancel()
            # Cancelled (Ctrl-C, Prefect), the store's thread still runs: its transaction ends
            # before the run goes on to record its end through another connection.
            await asyncio.wait({storing})
            raise
        del got  # let a stored step's data go while the next one arrives
    return stored


async def _poll_feeds(cfg: Config, run: RunSummary, feeds: list[FeedState],
                      extractor: Extractor) -> None:
    """Fetch, parse and keep the feeds' entries batch by batch (the next batch downloads while
    one is parsed and stored), then every feed's state at once."""
    size = cfg.ingest.chunk_feeds
    order = spread_by_host(feeds, url=lambda f: f.url)
    batches = [order[i:i + size] for i in range(0, len(order), size)]
    polled: list[FeedPoll] = []
    async with Fetcher(cfg.fetch, cfg.local_roots()) as fetcher:

        async def fetch(batch: list[FeedState]) -> list[Any]:
            with run.stage("fetch-feeds"):
                return await fetch_feeds_task(cfg, batch, fetcher)

        def keep(fetched: list[Any]) -> list[FeedPoll]:
            with run.stage("parse-feeds"):
                polls = parse_feeds_task(fetched, extractor.feed_pool)
            fetched.clear()  # the bodies are parsed: let them go before the entries are stored
            with run.stage("keep-new-entries"):
                new, done = record_entries_task(cfg, run.run_id, polls)
            run.entries_new += new  # counted as stored: a run failing later reports them
            return done

        queue = iter(batches)
        for done in await _one_ahead(len(batches), lambda: fetch(next(queue)), keep):
            polled += done
    run.feeds_polled = len(polled)
    run.feeds_failed = sum(p.status not in ("ok", "not_modified") for p in polled)
    progress.info("polled %d feed(s), %d failed", run.feeds_polled, run.feeds_failed)
    with run.stage("keep-new-entries"):
        run.offline = record_feed_state_task(cfg, polled)
    if run.offline:
        progress.warning("every feed failed at the network level: recorded as offline, "
                         "no feed penalised")


def _store_chunk(cfg: Config, run: RunSummary, pages: list[PageFetch],
                 extractions: list[Extraction], archived: dict[str, Stored]) -> list[Match]:
    """Store one chunk (its pages already archived, their bodies let go): dedup, load,
    stories, topics, alerts, then mark it finished. Returns the chunk's new matches."""
    run.chunks += 1
    fetched = sum(p.fetch.ok for p in pages)
    run.pages_fetched += fetched
    run.pages_failed += len(pages) - fetched
    run.extracted += sum(x.status == "ok" for x in extractions)
    run.fallbacks += sum(x.status == "fallback" for x in extractions)
    run.no_article += sum(x.status in ("no_article", "failed") for x in extractions)
    # On a lake, shards store chunks side by side. Reading what is known, deciding and writing
    # takes the lake's turn: dedup, load and stories in one, alerts in another. Topic matching,
    # the costly part, runs between them in every shard at once (what it writes is keyed, and
    # alerts are decided in the second turn). A DuckDB file has no turns: its run holds the
    # writer lock throughout.
    with db.turn(cfg.warehouse_path):
        new_ids, touched = _store_extractions(cfg, run, pages, extractions, archived)
    return _match_and_alert(cfg, run, new_ids, touched)


def _store_extractions(cfg: Config, run: RunSummary, pages: list[PageFetch],
                       extractions: list[Extraction], archived: dict[str, Stored]
                       ) -> tuple[list[str], list[str]]:
    """Dedup, load and place a chunk's articles; returns the new and the touched ids."""
    fetched = sum(p.fetch.ok for p in pages)
    with run.stage("dedup"):
        found = dedup_task(cfg, extractions)
    with run.stage("load"):
        new_ids = load_task(cfg, run.run_id, pages, extractions, found, archived)
    run.articles_new += len(new_ids)
    run.duplicates += len(found.sightings) - len(found.articles)
    touched = sorted(set(found.entry_article.values()))
    features = {x.features.key: x.features for x in extractions if x.features}
    if run.chunks > 1 or len(pages) == cfg.ingest.chunk_pages:
        progress.info("chunk %d", run.chunks)
    progress.info("fetched %d page(s), %d failed", fetched, len(pages) - fetched)
    progress.info("extracted %d article(s), %d from feed summaries",
                  sum(x.status == "ok" for x in extractions),
                  sum(x.status == "fallback" for x in extractions))
    progress.info("stored %d new article(s), %d exact cop(ies), %d new version(s)",
                  len(new_ids), len(found.sightings) - len(found.articles), len(found.versions))
    _place(cfg, run, new_ids, touched, features)
    return new_ids, touched


def _finish_unfinished(cfg: Config, run: RunSummary, matches: list[Match]) -> None:
    """Articles an earlier run loaded but died before placing, matching or alerting."""
    with run.stage("unfinished"):
        left = unfinished_task(cfg)
    if not left.touched:
        return
    run.recovered = len(left.new)
    progress.warning("finishing %d article(s) an earlier run left unfinished", len(left.new))
    matches += _later_stages(cfg, run, list(left.unplaced), list(left.new), list(left.touched),
                             {})


def _later_stages(cfg: Config, run: RunSummary, unplaced: list[str], new_ids: list[str],
                  touched: list[str], features: dict[str, Any]) -> list[Match]:
    """Stories, topic matches and alerts of a chunk's articles; then they are finished."""
    _place(cfg, run, unplaced, touched, features)
    return _match_and_alert(cfg, run, new_ids, touched)


def _place(cfg: Config, run: RunSummary, unplaced: list[str], touched: list[str],
           features: dict[str, Any]) -> None:
    with run.stage("stories"):
        placed = assign_stories_task(cfg, unplaced, touched, features)
    run.near_duplicates += sum(p.near_duplicate_of is not None for p in placed)
    run.stories_new += sum(p.story_id == p.article_id for p in placed)
    progress.info("%d near-duplicate(s), %d new stor(ies)",
                  sum(p.near_duplicate_of is not None for p in placed),
                  sum(p.story_id == p.article_id for p in placed))


def _match_and_alert(cfg: Config, run: RunSummary, new_ids: list[str],
                     touched: list[str]) -> list[Match]:
    with run.stage("match-topics"):
        matches = match_topics_task(cfg, new_ids)
    with db.turn(cfg.warehouse_path):
        with run.stage("record-alerts"):
            stored, alerted = record_alerts_task(cfg, run.run_id, matches)
        run.matches_new += stored
        run.alerts_new += len(alerted)
        with run.stage("finish-chunk"):
            finish_task(cfg, touched)
    progress.info("%d topic match(es), %d new alert(s)", stored, len(alerted))
    return list(matches)
