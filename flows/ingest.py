"""The ingest flow: wiring only. Each stage is one Prefect task over the whole batch.

due feeds → fetch feeds → parse → keep new entries → fetch pages → extract → dedup → load →
stories → match topics → record alerts → deliver alerts → report (artifact, events)
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prefect import flow
from prefect.utilities.annotations import quote

from newswatch.config import Config, load_config
from tasks.alerts import deliver_alerts_task, record_alerts_task
from tasks.archive import archive_pages_task
from tasks.dedup import dedup_task
from tasks.extract import extract_pages_task
from tasks.feeds import due_feeds_task, record_polls_task
from tasks.fetch import fetch_feeds_task, fetch_pages_task
from tasks.load import load_task
from tasks.match import match_topics_task
from tasks.parse import parse_feeds_task
from tasks.report import publish_task
from tasks.stories import assign_stories_task
from warehouse import db

progress = logging.getLogger("newswatch.progress")


@dataclass
class RunSummary:
    run_id: str
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
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.stage_seconds[name] = round(time.perf_counter() - started, 3)

    def counts(self) -> dict[str, int]:
        keys = ("feeds_polled", "entries_new", "pages_fetched", "articles_new", "matches_new",
                "alerts_new")
        return {k: getattr(self, k) for k in keys}


@flow(name="ingest", log_prints=False)
async def ingest(config_path: str | None = None, all_feeds: bool = False) -> RunSummary:
    """One ingest run over the feeds that are due (or all of them with all_feeds)."""
    cfg = load_config(config_path)
    path = cfg.warehouse_path
    run = RunSummary(run_id=uuid.uuid4().hex[:12])
    with db.writer_lock(path):
        db.start_run(path, run.run_id, datetime.now(UTC))
        try:
            await _stages(cfg, run, all_feeds)
        except BaseException:
            db.finish_run(path, run.run_id, datetime.now(UTC), "failed", run.counts(),
                          run.stage_seconds)
            raise
        db.finish_run(path, run.run_id, datetime.now(UTC), "ok", run.counts(),
                      run.stage_seconds, run.offline)
    return run


async def _stages(cfg: Config, run: RunSummary, all_feeds: bool) -> None:
    # Batches go to the stages inside quote(): Prefect would otherwise walk every element of
    # every argument (thousands of pages, texts and fingerprints) looking for futures.
    with run.stage("due-feeds"):
        feeds = due_feeds_task(cfg, datetime.now(UTC), all_feeds)
    progress.info("%d feed(s) due", len(feeds))
    with run.stage("fetch-feeds"):
        fetched = await fetch_feeds_task(cfg, feeds)
    with run.stage("parse-feeds"):
        polls = parse_feeds_task(quote(fetched))
    run.feeds_polled = len(polls)
    run.feeds_failed = sum(p.status not in ("ok", "not_modified") for p in polls)
    progress.info("polled %d feed(s), %d failed", run.feeds_polled, run.feeds_failed)
    with run.stage("keep-new-entries"):
        entries = record_polls_task(cfg, run.run_id, quote(polls))
    run.entries_new, run.offline = entries.new, entries.offline
    if run.offline:
        progress.warning("every feed failed at the network level: recorded as offline, "
                         "no feed penalised")
    progress.info("%d new entr(ies), %d page(s) to fetch", entries.new, len(entries.to_fetch))
    with run.stage("fetch-pages"):
        pages = await fetch_pages_task(cfg, quote(list(entries.to_fetch)))
    with run.stage("archive"):
        archived = archive_pages_task(cfg, run.run_id, quote(pages))
    run.pages_fetched = sum(p.fetch.ok for p in pages)
    run.pages_failed = len(pages) - run.pages_fetched
    progress.info("fetched %d page(s), %d failed", run.pages_fetched, run.pages_failed)
    with run.stage("extract"):
        extractions = extract_pages_task(cfg, quote(pages))
    run.extracted = sum(x.status == "ok" for x in extractions)
    run.fallbacks = sum(x.status == "fallback" for x in extractions)
    run.no_article = sum(x.status in ("no_article", "failed") for x in extractions)
    progress.info("extracted %d article(s), %d from feed summaries", run.extracted, run.fallbacks)
    with run.stage("dedup"):
        found = dedup_task(cfg, quote(extractions))
    with run.stage("load"):
        new_ids = load_task(cfg, run.run_id, quote(pages), quote(extractions), quote(found),
                            quote(archived))
    run.articles_new = len(new_ids)
    run.duplicates = len(found.sightings) - len(found.articles)
    progress.info("stored %d new article(s), %d exact cop(ies), %d new version(s)",
                  run.articles_new, run.duplicates, len(found.versions))
    with run.stage("stories"):
        features = {x.features.key: x.features for x in extractions if x.features}
        placed = assign_stories_task(cfg, quote(new_ids),
                                     quote(sorted(set(found.entry_article.values()))),
                                     quote(features))
    run.near_duplicates = sum(p.near_duplicate_of is not None for p in placed)
    run.stories_new = sum(p.story_id == p.article_id for p in placed)
    progress.info("%d near-duplicate(s), %d new stor(ies)", run.near_duplicates,
                  run.stories_new)
    with run.stage("match-topics"):
        matches = match_topics_task(cfg, quote(new_ids))
    with run.stage("record-alerts"):
        stored, alerted = record_alerts_task(cfg, run.run_id, quote(matches))
    run.matches_new, run.alerts_new = stored, len(alerted)
    progress.info("%d topic match(es), %d new alert(s)", run.matches_new, run.alerts_new)
    with run.stage("deliver-alerts"):
        deliveries = deliver_alerts_task(cfg)
    run.deliveries_sent = sum(d.status == "sent" for d in deliveries)
    run.deliveries_failed = len(deliveries) - run.deliveries_sent
    with run.stage("report"):
        run.events_emitted = publish_task(cfg, run.run_id, run.counts(), quote(matches))
