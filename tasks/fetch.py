"""Stages 2 and 5: fetch the due feeds, and the pages of new entries, concurrently through the
one HTTP seam. A failed fetch is a result like any other; nothing here raises for bad input.
A chunk's pages go to extraction and to the archive one by one as they arrive, so extraction
overlaps fetching and a page's body is let go as soon as both are done with it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

from newswatch.config import Config
from tasks import stage
from tasks.archive import Archive, Stored
from tasks.extract import Extractor
from tasks.feed_content import extract_feed_content, from_feed, not_fetched
from tasks.feeds import sends_validators
from tasks.http import Fetcher
from tasks.models import Entry, Extraction, FeedState, FetchResult, PageFetch

Fetched = tuple[FeedState, FetchResult]
T = TypeVar("T")


async def fetch_feeds(cfg: Config, feeds: list[FeedState],
                      fetcher: Fetcher | None = None) -> list[Fetched]:
    """Each feed's body (conditionally, when its validators are due), through `fetcher` when
    given: a run polling batch after batch keeps one, and with it each host's politeness."""
    async with contextlib.AsyncExitStack() as stack:
        f = fetcher or await stack.enter_async_context(Fetcher(cfg.fetch, cfg.local_roots()))
        results = await asyncio.gather(*(
            f.get(feed.url, max_bytes=cfg.fetch.max_feed_bytes,
                  **({"etag": feed.etag, "last_modified": feed.last_modified}
                     if sends_validators(cfg, feed) else {}))
            for feed in feeds
        ))
    return list(zip(feeds, results, strict=True))


async def fetch_pages(cfg: Config, entries: list[Entry]) -> list[PageFetch]:
    """Each entry's page; an item that carries its own article (a shared page) is not fetched."""
    todo = [e for e in entries if not from_feed(e)]
    async with Fetcher(cfg.fetch, cfg.local_roots()) as f:
        results = await asyncio.gather(*(
            f.get(e.entry_url, max_bytes=cfg.fetch.max_page_bytes) for e in todo
        ))
    fetched = {e.entry_url: PageFetch(e, r) for e, r in zip(todo, results, strict=True)}
    return [fetched[e.entry_url] if e.entry_url in fetched else not_fetched(e) for e in entries]


def spread_by_host(items: Sequence[T], url: Callable[[T], str] = str) -> list[T]:
    """The items (page or feed URLs, or what `url` finds one in) in the order a run fetches
    them: each host's spread evenly through the list, each host's in their own order (the
    oldest first).

    A run fetches chunk after chunk, and politeness lets a host serve only so fast (4 pages a
    second by default). In URL order a busy host's pages fall in one chunk, which then waits
    on that host while the cores idle; spread, each chunk carries a share of every busy host,
    and the waits overlap the other hosts' downloads and extractions."""
    hosts: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        try:
            host = (urlsplit(url(item)).hostname or "").lower()
        except ValueError:  # a malformed URL: its fetch fails, anywhere in the list
            host = ""
        hosts.setdefault(host, []).append(i)
    # Item k of a host's n goes at fraction (k + 1/2) / n of the list; ties keep their order.
    place = sorted(((k + 0.5) / len(idx), i) for idx in hosts.values()
                   for k, i in enumerate(idx))
    return [items[i] for _, i in place]


async def fetch_and_extract(cfg: Config, entries: list[Entry], fetcher: Fetcher,
                            extractor: Extractor, archive: Archive
                            ) -> tuple[list[PageFetch], list[Extraction], dict[str, Stored]]:
    """Fetch a chunk's pages; each page that arrives is extracted and archived at once, and
    then let go of its body. Returns every page (without its body) and the extractions of the
    fetched ones, both in the entries' order, and where each archived page's record is (by
    entry URL)."""

    async def one(e: Entry) -> tuple[PageFetch, Extraction | None, Stored | None]:
        if from_feed(e):  # an item that carries its own article: its shared page is not fetched
            page = not_fetched(e)
            return page, extract_feed_content(cfg, page), None
        page = PageFetch(e, await fetcher.get(e.entry_url, max_bytes=cfg.fetch.max_page_bytes))
        if not page.fetch.ok:
            return page, None, None
        extraction, stored = await asyncio.gather(extractor.extract(page), archive.store(page))
        return page.without_body(), extraction, stored

    done = await asyncio.gather(*(one(e) for e in entries))
    return ([p for p, _, _ in done], [x for _, x, _ in done if x is not None],
            {p.entry.entry_url: s for p, _, s in done if s is not None})


@stage("fetch-feeds")
async def fetch_feeds_task(cfg: Config, feeds: list[FeedState],
                           fetcher: Fetcher | None = None) -> list[Fetched]:
    return await fetch_feeds(cfg, feeds, fetcher)


@stage("fetch-extract")
async def fetch_and_extract_task(cfg: Config, entries: list[Entry], fetcher: Fetcher,
                                 extractor: Extractor, archive: Archive
                                 ) -> tuple[list[PageFetch], list[Extraction], dict[str, Stored]]:
    return await fetch_and_extract(cfg, entries, fetcher, extractor, archive)
