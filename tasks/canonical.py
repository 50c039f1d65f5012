"""Whose URL is this page? A page's rel=canonical / og:url is its own claim. Within one site
(registrable domain: bbc.co.uk for news.bbc.co.uk, by the Public Suffix List) it is trusted as
before. Across sites it is trusted only when the claim can be checked without a fetch:
- the warehouse (or this run) already holds that URL with the same text: a syndicated copy;
- the two sites are syndication partners in config (`[dedup] syndication_partners`);
- the page was read from a file of the owner's (a `local = true` feed).
Otherwise a hostile page could claim another outlet's identity and replace its text as a "new
version": the fetched URL stays the article's identity and the claim is kept, as data.

Registrable domains come from tldextract with the suffix list snapshot it bundles, and no
list URLs, so it never makes a request (tests/test_canonical.py checks). Private suffixes
(github.io, blogspot.com) count: two blogs there are two sites.
"""

from __future__ import annotations

from functools import cache
from typing import Literal
from urllib.parse import urlsplit

import tldextract

Decision = Literal["own_site", "local_file", "known_copy", "partner", "untrusted"]


@cache
def _extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None,
                                 include_psl_private_domains=True)


@cache
def site(host_or_url: str) -> str:
    """The registrable domain of a URL or host; an IP address as it is; the last two labels of a
    name under no public suffix (dailymeridian.example for www.dailymeridian.example)."""
    host = (urlsplit(host_or_url).hostname if "://" in host_or_url else host_or_url) or ""
    host = host.strip(".").lower()
    found = _extractor()(host)
    if found.top_domain_under_public_suffix:
        return found.top_domain_under_public_suffix
    labels = host.split(".")
    if ":" in host or all(label.isdigit() for label in labels):  # an IP address
        return host
    return ".".join(labels[-2:])  # a name under no known suffix (.example, .internal)


def parse_partners(value: str) -> dict[str, frozenset[str]]:
    """`"apnews.com wtop.com; reuters.com yahoo.com"` → each site's group of partners.
    Raises ValueError naming the entry that is not a registrable domain."""
    out: dict[str, frozenset[str]] = {}
    for group in filter(None, (g.strip() for g in value.split(";"))):
        names = [n.strip().lower() for n in group.replace(",", " ").split()]
        for n in names:
            if site(n) != n:
                raise ValueError(n)
        members = frozenset(names)
        for n in names:
            out[n] = out.get(n, frozenset()) | members
    return out


def judge(fetched: str, claimed: str | None, same_text_at_claim: bool,
          partners: dict[str, frozenset[str]]) -> tuple[str, Decision]:
    """(the URL that is the article's identity, why). `fetched` and `claimed` are normalised;
    `same_text_at_claim`: the warehouse or this run holds `claimed` with this text."""
    if not claimed or claimed == fetched:
        return fetched, "own_site"
    if fetched.startswith("file:"):  # a page the owner keeps on this machine (a local feed)
        return claimed, "local_file"
    a, b = site(fetched), site(claimed)
    if a == b:
        return claimed, "own_site"
    if same_text_at_claim:
        return claimed, "known_copy"
    if b in partners.get(a, ()):
        return claimed, "partner"
    return fetched, "untrusted"
