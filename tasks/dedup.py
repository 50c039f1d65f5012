"""Stage 7: exact deduplication and versions.

An article's identity is its canonical URL (the page's rel=canonical or og:url when it gives
one and it can be trusted, see tasks/canonical.py; else the normalised URL). Seen again:
- at the same canonical URL with the same text: a sighting (another URL or outlet for it);
- at the same canonical URL with other text: a new version; the old one is kept;
- with the same text (content hash) at another canonical URL: a sighting of the first article.
Everything else is a new article. Near-duplicates and stories come after loading (stories.py).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from newswatch.config import Config
from tasks import stage
from tasks.canonical import judge
from tasks.features import content_hash
from tasks.models import Article, Dedup, Extraction
from tasks.urls import normalize_url
from warehouse import db


def article_id(canonical_url: str) -> str:
    return hashlib.sha256(canonical_url.encode()).hexdigest()[:16]


def dedup(cfg: Config, extractions: list[Extraction]) -> Dedup:
    usable = sorted(
        (x for x in extractions if x.text and x.status in ("ok", "fallback")),
        key=lambda x: (x.published_at or datetime.max.replace(tzinfo=UTC), x.url),
    )
    # An item that shares its page keeps the fragment that names it (tasks/parse.py). The
    # extraction worker hashed the text it extracted; a feed's own text is hashed here.
    keyed = [(x, x.url if x.method == "feed_content" else normalize_url(x.url),
              normalize_url(x.canonical_url) if x.canonical_url else None,
              x.content_hash or content_hash(x.text or "")) for x in usable]
    keys = [{"canonical_url": u, "content_hash": h}
            for _, fetched, claimed, h in keyed for u in {fetched, claimed or fetched}]
    known = db.known_articles(cfg.warehouse_path, keys)
    partners = cfg.dedup.partners()
    by_url = {r["canonical_url"]: (r["article_id"], r["content_hash"]) for r in known}
    by_hash: dict[str, str] = {}
    for r in known:
        by_hash.setdefault(r["content_hash"], r["article_id"])
    now = datetime.now(UTC)
    articles: list[Article] = []
    versions: dict[str, dict[str, Any]] = {}
    sightings: list[dict[str, Any]] = []
    entry_article: dict[str, str] = {}
    for x, fetched, claimed, h in keyed:
        outlet = x.outlet or x.entry.outlet
        same_text = claimed is not None and by_url.get(claimed, ("", ""))[1] == h
        canonical, decision = judge(fetched, claimed, same_text, partners)
        if canonical in by_url:
            aid, known_hash = by_url[canonical]
            if known_hash != h and aid not in {a.article_id for a in articles}:
                versions[aid] = {"article_id": aid, "title": x.title, "text": x.text,
                                 "content_hash": h, "seen_at": now}
                by_url[canonical] = (aid, h)
        elif h in by_hash:
            aid = by_hash[h]
        else:
            aid = article_id(canonical)
            articles.append(Article(
                article_id=aid, url=x.url, canonical_url=canonical, title=x.title,
                text=x.text or "", author=x.author, published_at=x.published_at,
                language=x.language, outlet=outlet, feed_url=x.entry.feed_url,
                content_hash=h, extraction_method=x.method or "trafilatura", first_seen_at=now,
                claimed_canonical_url=claimed if decision == "untrusted" else None,
            ))
            by_url[canonical] = (aid, h)
            by_hash[h] = aid
        sightings.append({"article_id": aid, "url": x.url, "outlet": outlet,
                          "feed_url": x.entry.feed_url, "seen_at": now})
        entry_article[x.entry.entry_url] = aid
    return Dedup(articles=tuple(articles), entry_article=entry_article,
                 sightings=tuple(sightings), versions=tuple(versions.values()))


@stage("dedup")
def dedup_task(cfg: Config, extractions: list[Extraction]) -> Dedup:
    return dedup(cfg, extractions)
