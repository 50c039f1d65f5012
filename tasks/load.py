"""Stage 8: load a chunk of a run's pages into the warehouse in one transaction: new articles,
the outcome of every entry (done, failed, or still pending for a retry), the page and
extraction logs, and the chunk's articles as unfinished until their stories, topic matches and
alerts are committed (`finish`). A run that dies in between leaves them unfinished, and the
next run finishes them first (`unfinished`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

from newswatch.config import Config
from tasks import stage
from tasks.archive import Stored
from tasks.models import Dedup, Extraction, PageFetch
from warehouse import db


def load(cfg: Config, run_id: str, pages: list[PageFetch], extractions: list[Extraction],
         found: Dedup, archived: dict[str, Stored] | None = None) -> list[str]:
    """Store everything; return the ids of the articles that are new in this run. `archived`
    (entry URL → WARC record) links each new article to its raw response."""
    now = datetime.now(UTC)
    by_entry = {x.entry.entry_url: x for x in extractions}
    updates, fetch_log = [], []
    for p in pages:
        url, f = p.entry.entry_url, p.fetch
        fetch_log.append(f.log_row(run_id, "page", url))
        x = by_entry.get(url)
        if x is None:  # the fetch failed: retry later unless it never will work
            last_try = p.entry.attempts + 1 >= cfg.fetch.max_page_attempts
            state = "failed" if f.status == "hard" or last_try else "pending"
            updates.append({"entry_url": url, "state": state, "last_status": f.status,
                            "last_reason": f.reason, "article_id": None})
        else:
            aid = found.entry_article.get(url)
            updates.append({"entry_url": url, "state": "done" if aid else "failed",
                            "last_status": x.status, "last_reason": x.reason, "article_id": aid})
    extract_log = [{
        "run_id": run_id, "extracted_at": now, "entry_url": x.entry.entry_url,
        "status": x.status, "reason": x.reason, "chars": len(x.text or ""),
        "elapsed_ms": x.elapsed_ms,
    } for x in extractions]
    where: dict[str, Stored] = {}
    for entry_url, aid in found.entry_article.items():
        if archived and entry_url in archived:
            where.setdefault(aid, archived[entry_url])
    articles = [{**dataclasses.asdict(a), "run_id": run_id,
                 "warc_file": where[a.article_id].file if a.article_id in where else None,
                 "warc_offset": where[a.article_id].offset if a.article_id in where else None}
                for a in found.articles]
    new = {a.article_id for a in found.articles}
    unfinished = [{"article_id": aid, "run_id": run_id, "new": aid in new, "loaded_at": now}
                  for aid in sorted(set(found.entry_article.values()))]
    db.load_articles(cfg.warehouse_path, articles, updates, fetch_log, extract_log,
                     found.sightings, found.versions, unfinished)
    return [a.article_id for a in found.articles]


def finish(cfg: Config, article_ids: list[str]) -> None:
    """The articles' stories, matches and alerts are committed: they are finished."""
    db.finish_articles(cfg.warehouse_path, article_ids)


@dataclass(frozen=True)
class Unfinished:
    """What an earlier run loaded but did not see through (it died between the stages)."""

    unplaced: tuple[str, ...] = ()  # new articles without a story yet
    new: tuple[str, ...] = ()  # new articles to match (matching again is harmless)
    touched: tuple[str, ...] = ()  # every one of them: their stories' outlets to refresh


def unfinished(cfg: Config) -> Unfinished:
    rows = db.unfinished_articles(cfg.warehouse_path)
    return Unfinished(
        unplaced=tuple(r["article_id"] for r in rows if r["new"] and r["unplaced"]),
        new=tuple(r["article_id"] for r in rows if r["new"]),
        touched=tuple(r["article_id"] for r in rows))


@stage("unfinished")
def unfinished_task(cfg: Config) -> Unfinished:
    return unfinished(cfg)


@stage("finish-chunk")
def finish_task(cfg: Config, article_ids: list[str]) -> None:
    finish(cfg, article_ids)


@stage("load")
def load_task(cfg: Config, run_id: str, pages: list[PageFetch], extractions: list[Extraction],
              found: Dedup, archived: dict[str, Stored]) -> list[str]:
    return load(cfg, run_id, pages, extractions, found, archived)
