"""Stage 7: exact deduplication. An article's identity is its canonical URL (the page's
rel=canonical when it gives one, else the normalised URL); its content hash catches the same
text at another URL, which is stored but marked as a duplicate of the first so it neither
matches topics nor alerts again. (Near-duplicates and stories come with issue 4.)"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from newswatch.config import Config
from tasks import stage
from tasks.models import Article, Dedup, Extraction
from tasks.topics import tokens
from tasks.urls import normalize_url
from warehouse import db


def content_hash(text: str) -> str:
    """Hash of the words only: case, accents, punctuation and spacing do not make new text."""
    return hashlib.sha256(" ".join(tokens(text)).encode()).hexdigest()[:32]


def article_id(canonical_url: str) -> str:
    return hashlib.sha256(canonical_url.encode()).hexdigest()[:16]


def dedup(cfg: Config, extractions: list[Extraction]) -> Dedup:
    usable = sorted(
        (x for x in extractions if x.text and x.status in ("ok", "fallback")),
        key=lambda x: (x.published_at or datetime.max.replace(tzinfo=UTC), x.url),
    )
    keyed = [(x, normalize_url(x.canonical_url or x.url), content_hash(x.text or ""))
             for x in usable]
    keys = [{"canonical_url": c, "content_hash": h} for _, c, h in keyed]
    known = db.known_articles(cfg.warehouse_path, keys)
    by_url = {r["canonical_url"]: r["article_id"] for r in known}
    by_hash: dict[str, str] = {}
    for r in known:
        by_hash.setdefault(r["content_hash"], r["article_id"])
    now = datetime.now(UTC)
    articles: list[Article] = []
    entry_article: dict[str, str] = {}
    for x, canonical, h in keyed:
        if canonical in by_url:  # the same article again (another feed, a tracking URL)
            entry_article[x.entry.entry_url] = by_url[canonical]
            continue
        aid = article_id(canonical)
        articles.append(Article(
            article_id=aid, url=x.url, canonical_url=canonical, title=x.title,
            text=x.text or "", author=x.author, published_at=x.published_at,
            language=x.language, outlet=x.outlet or x.entry.outlet, feed_url=x.entry.feed_url,
            content_hash=h, extraction_method=x.method or "trafilatura",
            duplicate_of=by_hash.get(h), first_seen_at=now,
        ))
        by_url[canonical] = aid
        by_hash.setdefault(h, aid)
        entry_article[x.entry.entry_url] = aid
    return Dedup(articles=tuple(articles), entry_article=entry_article)


@stage("dedup")
def dedup_task(cfg: Config, extractions: list[Extraction]) -> Dedup:
    return dedup(cfg, extractions)
