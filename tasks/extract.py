"""Stage 6: article text and metadata from fetched pages, with trafilatura.

trafilatura is CPU-bound, so a run with many pages extracts in worker processes (the GIL would
serialise threads), started once per run and fed page by page as the pages arrive, so pages
extract while others download. The workers fork from a server process (forkserver) that
imported only `tasks.worker_boot`: `tasks.pagetext` (trafilatura, our charset rules, the
tokeniser) and `tasks.parse` (feedparser: a run's feeds parse in the same workers before its
pages come), with extraction's lazy state built once, and the run's main module; not Prefect,
not the warehouse, and not the parent's threads. A run starts it as its feeds download, so its
workers start warm in the time a fork takes. A run with few pages extracts in-process, because
starting workers costs more than it saves. With `[extract] runner = "dask"` the workers are a
Dask cluster's instead (tasks/dask_extract.py), the same extraction. A page with no article
(trafilatura returns boilerplate, or too little text) falls back to the feed's summary when
there is one, and the outcome says so.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING

from newswatch.config import Config
from tasks.feed_content import extract_feed_content, from_feed
from tasks.models import Extraction, PageFetch
from tasks.pagetext import PageText, extract_job, extract_page, start_worker

if TYPE_CHECKING:
    from tasks.dask_extract import DaskBatcher

__all__ = ["Extractor", "PageText", "extract_page", "extract_pages"]

# All a worker imports, in the forkserver before it forks: tasks.pagetext and tasks.parse, and
# extraction's lazy state built once (tasks/worker_boot.py).
WORKER_MODULES = ["tasks.worker_boot"]


def _page_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None


def _job(cfg: Config, p: PageFetch
         ) -> tuple[str, bytes, int, str | None, tuple[int, int], bool]:
    return (p.fetch.final_url or p.entry.entry_url, p.fetch.body,
            cfg.extract.min_article_chars, p.fetch.headers.get("content-type"),
            (cfg.stories.minhash_perm, cfg.stories.lsh_bands), p.entry.published_at is None)


def _forkserver() -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    # "__main__" too: a process started from a forkserver imports the parent's main module
    # (the `newswatch` script, and with it the CLI) unless its server already has; imported
    # there once, it is not imported again in each worker (~60 ms a worker).
    ctx.set_forkserver_preload(["__main__", *WORKER_MODULES])
    return ctx


def start_forkserver() -> threading.Thread:
    """Start the workers' forkserver in the background, now: it imports and warms up (~0.4 s of
    a core) while the run does other things, where the first worker would otherwise wait for
    it. The forkserver lives as long as this process (a `serve` starts it once)."""
    _forkserver()
    from multiprocessing import forkserver

    t = threading.Thread(target=forkserver.ensure_running, name="forkserver-start",
                         daemon=True)
    t.start()
    return t


def start_pool(workers: int) -> Executor:
    """Worker processes forked from a fresh server process (forkserver): the flow process
    runs threads (Prefect's, httpx's), and a plain fork would copy their locks; spawn would
    make each worker import everything itself."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=_forkserver(),
                               initializer=start_worker, initargs=(os.getpid(),))


class Extractor:
    """Extraction for one run: worker processes when the run has at least
    `[extract] pool_threshold` pages, in-process otherwise. Every chunk of the run uses the
    same workers. With `[extract] runner = "dask"` the workers are a Dask cluster's, reached
    through Prefect's DaskTaskRunner in batches (tasks/dask_extract.py)."""

    def __init__(self, cfg: Config, pages: int) -> None:
        self.cfg = cfg
        self.workers = (cfg.extract.workers or os.cpu_count() or 1
                        if pages >= cfg.extract.pool_threshold else 0)
        self.pool: Executor | None = None
        self.dask: DaskBatcher | None = None

    def __enter__(self) -> Extractor:
        if self.workers and self.cfg.extract.runner == "dask":
            from tasks.dask_extract import DaskBatcher, start_runner

            self.dask = DaskBatcher(start_runner(self.cfg, self.workers),
                                    self.cfg.extract.dask_batch)
        elif self.workers:
            self.pool = start_pool(self.workers)
            for _ in range(self.workers):  # start them now, while the pages download
                self.pool.submit(int)
        return self

    async def ensure(self, pages: int) -> None:
        """Start the workers now if `pages` need them and none were started: a run opens its
        extractor for its feeds (parsed in the workers) before it knows its pages."""
        if self.workers or pages < self.cfg.extract.pool_threshold:
            return
        self.workers = self.cfg.extract.workers or os.cpu_count() or 1
        await self.__aenter__()

    @property
    def feed_pool(self) -> Executor | None:
        """Where feeds parse: this machine's workers; in-process without them (a Dask
        cluster's workers are for pages: a feed is ~5 ms of work, less than a task costs)."""
        return self.pool

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=error is None, cancel_futures=True)
            self.pool = None
        if self.dask is not None:
            self.dask.close()
            self.dask = None

    async def __aenter__(self) -> Extractor:
        if self.workers and self.cfg.extract.runner == "dask":
            # A cluster takes seconds to start or reach: off the event loop.
            return await asyncio.to_thread(self.__enter__)
        return self.__enter__()

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.__exit__(kind, error, tb)

    async def extract(self, page: PageFetch) -> Extraction:
        """One fetched page (fetch.ok) to its extraction, in a worker when there are any."""
        job = _job(self.cfg, page)
        if self.dask is not None:
            text = await self.dask.extract(job)
        elif self.pool is None:
            text = extract_job(job)
        else:
            text = await asyncio.get_running_loop().run_in_executor(self.pool, extract_job, job)
        return to_extraction(self.cfg, page, text)

    def extract_all(self, pages: list[PageFetch]) -> list[Extraction]:
        """A batch at once (re-extraction, tests): the fetched pages' extractions, in order."""
        ok = [p for p in pages if p.fetch.ok]
        jobs = [_job(self.cfg, p) for p in ok]
        if self.dask is not None:
            texts = self.dask.run(jobs)
        elif self.pool is not None:
            texts = list(self.pool.map(extract_job, jobs, chunksize=8))
        else:
            texts = [extract_job(j) for j in jobs]
        return [to_extraction(self.cfg, p, t) for p, t in zip(ok, texts, strict=True)]


def extract_pages(cfg: Config, pages: list[PageFetch]) -> list[Extraction]:
    own = [p for p in pages if not from_feed(p.entry)]
    with Extractor(cfg, sum(p.fetch.ok for p in own)) as ex:
        return ex.extract_all(own) + [extract_feed_content(cfg, p) for p in pages
                                      if from_feed(p.entry)]


def to_extraction(cfg: Config, page: PageFetch, t: PageText) -> Extraction:
    e = page.entry
    url = page.fetch.final_url or e.entry_url
    if t.status != "ok":
        summary = e.summary or ""
        if len(summary) >= cfg.extract.min_summary_chars:
            return Extraction(
                entry=e, status="fallback", reason=f"{t.reason}_used_summary", url=url,
                title=e.title, text=summary, published_at=e.published_at, outlet=e.outlet,
                method="feed_summary", elapsed_ms=t.elapsed_ms,
            )
        return Extraction(entry=e, status=t.status, reason=t.reason, url=url,  # type: ignore[arg-type]
                          elapsed_ms=t.elapsed_ms)
    return Extraction(
        entry=e, status="ok", reason=t.reason, url=url, canonical_url=t.canonical,
        title=t.title or e.title, text=t.text, author=t.author,
        published_at=e.published_at or _page_date(t.date), language=t.language,
        outlet=t.sitename or e.outlet, method="trafilatura", elapsed_ms=t.elapsed_ms,
        features=t.features, content_hash=t.content_hash,
    )
