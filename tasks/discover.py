"""Feed autodiscovery for `newswatch feeds add URL`: the URL itself when it is a feed; else
the feeds a page announces (`<link rel="alternate" type="application/rss+xml">`, Atom, and
JSON Feed's `application/feed+json`, with plain `application/json` only when the page announces
no feed+json, as the JSON Feed spec asks); else the paths where sites usually keep one. Every
request goes through the HTTP seam, and every candidate must parse as a feed with a title or
entries before it is offered."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

import lxml.html
from lxml.etree import ParserError

from newswatch.config import FetchConfig
from tasks.http import Fetcher
from tasks.parse import parse_bytes

FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml",
              "application/xml", "text/xml", "application/feed+json", "application/json"}
COMMON_PATHS = ("/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml",
                "/feed/", "/rss/", "/feeds/all.atom.xml", "/?feed=rss2", "/feed.json")


@dataclass(frozen=True)
class Found:
    url: str
    title: str
    how: str  # direct, link_alternate, common_path


@dataclass
class Discovery:
    found: list[Found] = field(default_factory=list)
    error: str | None = None  # why nothing was found (the page's own fetch outcome)


def _as_feed(body: bytes, headers: dict[str, str]) -> str | None:
    """The feed's title when the bytes are a feed, else None."""
    parsed = parse_bytes(body, {k: v for k, v in headers.items() if k == "content-type"})
    if not parsed.get("version") or not (parsed.entries or parsed.feed.get("title")):
        return None
    return parsed.feed.get("title") or ""


def announced(page_url: str, body: bytes) -> list[str]:
    """Feed URLs a page links to with rel=alternate, in page order."""
    try:
        doc = lxml.html.fromstring(body)
    except (ParserError, ValueError):
        return []
    found: list[tuple[str, str]] = []
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = link.get("href")
        if "alternate" in rel and kind in FEED_TYPES and href:
            url = urljoin(page_url, href.strip())
            if url not in (u for _, u in found):
                found.append((kind, url))
    if any(kind == "application/feed+json" for kind, _ in found):
        found = [(k, u) for k, u in found if k != "application/json"]
    return [u for _, u in found]


async def discover(cfg: FetchConfig, url: str) -> Discovery:
    async with Fetcher(cfg) as f:
        page = await f.get(url, max_bytes=cfg.max_feed_bytes)
        if not page.ok:
            return Discovery(error=f"{page.status} ({page.reason})")
        base = page.final_url or url
        title = _as_feed(page.body, page.headers)
        if title is not None:
            return Discovery([Found(base, title, "direct")])
        out = Discovery()
        for how, candidates in (("link_alternate", announced(base, page.body)),
                                ("common_path", [urljoin(base, p) for p in COMMON_PATHS])):
            for c in candidates:
                r = await f.get(c, max_bytes=cfg.max_feed_bytes)
                t = _as_feed(r.body, r.headers) if r.ok else None
                if t is not None:
                    out.found.append(Found(r.final_url or c, t, how))
            if out.found:
                return out
        out.error = "no feed announced by the page or at the usual paths"
        return out
