"""Items that share one page: a blog whose posts are `page#anchor` links, a podcast whose
episodes all link to the show. Each item stays an entry of its own and its own content is its
article (`feed_content`); the shared page is not fetched. Ordinary news feeds are unaffected."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from tasks.models import FeedState, FetchResult
from tasks.parse import parse_feed
from tests import servers
from tests.conftest import fixture_feeds, write_config

POSTS = [(f"Note {i}", f"post-{i}", f"<p>Note {i} begins here and says a thing.</p>"
                                   f"<p>Its second paragraph, number {i}, says more.</p>")
         for i in range(1, 6)]


def atom_blog(base: str) -> bytes:
    entries = "".join(
        f"<entry><title>{t}</title><id>tag:blog,2026:{a}</id>"
        f'<link href="{base}/notes.html#{a}"/><updated>2026-11-2{i}T10:00:00Z</updated>'
        f'<summary>teaser {i}</summary><content type="html"><![CDATA[{c}]]></content></entry>'
        for i, (t, a, c) in enumerate(POSTS, 1))
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Notes</title><id>tag:blog</id><updated>2026-11-27T10:00:00Z</updated>"
            f"{entries}</feed>").encode()


def podcast(base: str, episodes: int = 4) -> bytes:
    items = "".join(
        f"<item><title>Episode {i}</title><link>{base}/show/</link>"
        f'<guid isPermaLink="false">ep-{i:04d}</guid>'
        f"<pubDate>Mon, 0{i} Nov 2026 06:00:00 GMT</pubDate>"
        f"<description>In episode {i} the hosts talk about topic number {i} at length."
        f"</description><enclosure url=\"{base}/ep{i}.mp3\" type=\"audio/mpeg\" length=\"1\"/>"
        f"</item>" for i in range(1, episodes + 1))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>The Show</title>'
            f"<link>{base}/show/</link>{items}</channel></rss>").encode()


def poll(body: bytes, url: str, content_type: str = "application/rss+xml"):
    feed = FeedState(url=url, name="f", outlet="O", local=False)
    fetch = FetchResult(url=url, status="ok", reason="http_200", fetched_at=datetime.now(UTC),
                        final_url=url, http_status=200, headers={"content-type": content_type},
                        body=body)
    return parse_feed(feed, fetch)


def test_anchored_posts_keep_their_fragment_and_content() -> None:
    p = poll(atom_blog("https://blog.example"), "https://blog.example/atom.xml",
             "application/atom+xml")
    assert [e.entry_url for e in p.entries] == [
        f"https://blog.example/notes.html#post-{i}" for i in range(1, 6)]
    assert p.entries[1].content == ("Note 2 begins here and says a thing.\n"
                                    "Its second paragraph, number 2, says more.")
    assert p.entries[1].summary == "teaser 2"


def test_podcast_episodes_fall_back_to_their_guid() -> None:
    p = poll(podcast("https://pod.example"), "https://pod.example/feed.xml")
    assert [e.entry_url for e in p.entries] == [
        f"https://pod.example/show/#guid=ep-{i:04d}" for i in range(1, 5)]
    assert p.entries[0].content == ("In episode 1 the hosts talk about topic number 1 at "
                                    "length.")
    # An episode with no text of its own is still not its show page's article.
    bare = podcast("https://pod.example").replace(
        b"<description>In episode 2 the hosts talk about topic number 2 at length."
        b"</description>", b"")
    assert poll(bare, "https://pod.example/feed.xml").entries[1].content == ""


def test_items_nothing_tells_apart_stay_one_ordinary_entry() -> None:
    """One story listed twice (same link, no fragment, same or no guid) is not a shared page."""
    items = "".join(f"<item><title>T{i}</title><link>https://x.example/p</link>"
                    f"<description>body {i}</description></item>" for i in range(3))
    body = f'<rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode()
    p = poll(body, "https://x.example/f")
    assert {(e.entry_url, e.content) for e in p.entries} == {("https://x.example/p", None)}


def test_ordinary_news_feeds_are_unaffected() -> None:
    """Distinct links stay as they were: normalised, fragment and tracking dropped, no
    content kept, even when a content:encoded is there."""
    body = (b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            b"<channel><title>News</title>"
            b"<item><title>A</title><link>https://news.example/a.html#comments</link>"
            b'<guid isPermaLink="false">1</guid>'
            b"<content:encoded>&lt;p&gt;full A&lt;/p&gt;</content:encoded></item>"
            b"<item><title>B</title><link>https://news.example/b.html?utm_source=rss</link>"
            b'<guid isPermaLink="false">2</guid></item>'
            b"<item><title>C</title><link>https://news.example/c.html</link></item>"
            b"</channel></rss>")
    p = poll(body, "https://news.example/rss")
    assert [(e.entry_url, e.guid, e.content) for e in p.entries] == [
        ("https://news.example/a.html", "1", None),
        ("https://news.example/b.html", "2", None),
        ("https://news.example/c.html", None, None)]


def q(cfg: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(cfg.parent / "nw.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_run_stores_one_article_per_item_and_fetches_no_shared_page(
        site: servers.Server, tmp_path: Path) -> None:
    from flows.ingest import ingest

    site.routes["/notes.xml"] = servers.body(atom_blog(site.url), "application/atom+xml")
    site.routes["/pod.xml"] = servers.body(podcast(site.url), "application/rss+xml")
    feeds = [*fixture_feeds(site.url)[:1],
             {"name": "Notes", "outlet": "Notes", "url": f"{site.url}/notes.xml"},
             {"name": "Pod", "outlet": "The Show", "url": f"{site.url}/pod.xml"}]
    cfg = write_config(tmp_path, feeds)
    s = asyncio.run(ingest(str(cfg), all_feeds=True))
    assert (s.entries_new, s.articles_new) == (2 + 5 + 4, 2 + 5 + 4)
    assert q(cfg, """SELECT extraction_method, count(*) FROM articles
                     GROUP BY ALL ORDER BY 1""") == [("feed_content", 9), ("trafilatura", 2)]
    assert q(cfg, """SELECT url, title, text, author IS NULL FROM articles
                     WHERE url LIKE '%#post-2'""") == [(
        f"{site.url}/notes.html#post-2", "Note 2",
        "Note 2 begins here and says a thing.\nIts second paragraph, number 2, says more.",
        True)]
    assert q(cfg, f"""SELECT count(*), count(DISTINCT article_id) FROM entries
                      WHERE entry_url LIKE '{site.url}/show/#guid=ep-%'""") == [(4, 4)]
    assert q(cfg, """SELECT status, reason, count(*) FROM fetch_log WHERE kind = 'page'
                     GROUP BY ALL ORDER BY 2""") == [("ok", "feed_content", 9),
                                                     ("ok", "http_200", 2)]
    assert (site.hits("/notes.html"), site.hits("/show/")) == (0, 0)
    again = asyncio.run(ingest(str(cfg), all_feeds=True))
    assert (again.entries_new, again.articles_new) == (0, 0)


def test_an_item_too_short_for_an_article_is_recorded_as_such(tmp_path: Path) -> None:
    from newswatch.config import load_config
    from tasks.feed_content import extract_feed_content, not_fetched

    cfg = load_config(write_config(tmp_path, []))
    p = poll(podcast("https://pod.example", 2), "https://pod.example/feed.xml")
    short = p.entries[0].__class__(**{**p.entries[0].__dict__, "content": "Ep 1."})
    page = not_fetched(short)
    assert (page.fetch.status, page.fetch.reason, page.fetch.http_status) == (
        "ok", "feed_content", None)
    x = extract_feed_content(cfg, page)
    assert (x.status, x.reason, x.text, x.method) == (
        "no_article", "feed_content_too_short", None, None)
    x = extract_feed_content(cfg, not_fetched(p.entries[1]))
    assert (x.status, x.reason, x.method, x.url) == (
        "ok", "feed_content", "feed_content", "https://pod.example/show/#guid=ep-0002")
