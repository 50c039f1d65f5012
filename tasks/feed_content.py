"""Items whose page is shared with other items of their feed (see tasks/parse.py): the page is
not fetched, since it is nobody's article, and the item's own content from the feed is stored
as its article with method `feed_content`. Both outcomes are recorded as data: the page's
fetch_log row says `feed_content` (nothing requested), the extraction says how it went."""

from __future__ import annotations

from datetime import UTC, datetime

from newswatch.config import Config
from tasks.features import story_features
from tasks.models import Entry, Extraction, FetchResult, PageFetch


def from_feed(entry: Entry) -> bool:
    return entry.content is not None


def not_fetched(entry: Entry) -> PageFetch:
    """The page of an item that carries its own article: no request is made."""
    return PageFetch(entry, FetchResult(url=entry.entry_url, status="ok", reason="feed_content",
                                        fetched_at=datetime.now(UTC)))


def extract_feed_content(cfg: Config, page: PageFetch) -> Extraction:
    e = page.entry
    text = (e.content or "").strip()
    if len(text) < cfg.extract.min_summary_chars:  # a microblog post is short, a teaser shorter
        return Extraction(entry=e, status="no_article", reason="feed_content_too_short",
                          url=e.entry_url)
    perm = (cfg.stories.minhash_perm, cfg.stories.lsh_bands)
    return Extraction(
        entry=e, status="ok", reason="feed_content", url=e.entry_url, title=e.title, text=text,
        author=e.author, published_at=e.published_at, outlet=e.outlet, method="feed_content",
        features=story_features(e.title or "", text, *perm),
    )
