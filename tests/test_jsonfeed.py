"""JSON Feed 1.0 and 1.1 through the parse path, autodiscovery and OPML import.

The fixtures in tests/feeds/jsonfeed/ describe themselves: each carries, in a `_newswatch`
extension object (which the spec tells readers to ignore), where it comes from and the entries
it must give as [entry_url, guid, title, summary, published_at]."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tasks.models import FeedState, FetchResult
from tasks.parse import parse_feed
from tests.conftest import write_config
from tests.simulator import NewsWeb, news_web
from tests.test_cli import cli

FIXTURES = Path(__file__).parent / "feeds" / "jsonfeed"
BASES = {"real-1.0-linkblog.json": "https://blog.example/feeds/json",
         "real-1.1-microblog.json": "https://micro.example/u/feed.json"}


def poll(body: bytes, url: str = "https://example.org/feed.json",
         content_type: str = "application/feed+json"):
    feed = FeedState(url=url, name="f", outlet="O", local=False)
    fetch = FetchResult(url=url, status="ok", reason="http_200", fetched_at=datetime.now(UTC),
                        final_url=url, http_status=200, headers={"content-type": content_type},
                        body=body)
    return parse_feed(feed, fetch)


def as_rows(p) -> list[list]:
    return [[e.entry_url, e.guid, e.title, e.summary,
             e.published_at.isoformat() if e.published_at else None] for e in p.entries]


@pytest.mark.parametrize("name", sorted(f.name for f in FIXTURES.glob("*.json")))
def test_spec_examples_and_real_shapes_parse_into_entries(name: str) -> None:
    body = (FIXTURES / name).read_bytes()
    expect = json.loads(body)["_newswatch"]["expect"]
    # Served as the spec asks, as plain JSON, and with a wrong XML type: the same entries.
    for content_type in ("application/feed+json", "application/json; charset=utf-8",
                         "text/xml"):
        p = poll(body, BASES.get(name, "https://example.org/feed.json"), content_type)
        assert (p.status, p.reason) == ("ok", "parsed"), content_type
        assert as_rows(p) == expect, content_type


def test_versions_are_named_and_bom_and_utf16_are_read() -> None:
    from tasks.parse import parse_bytes

    simple = (FIXTURES / "spec-1.1-simple.json").read_bytes()
    assert parse_bytes(simple, {}).version == "json11"
    assert parse_bytes((FIXTURES / "spec-1.0-simple.json").read_bytes(), {}).version == "json1"
    text = simple.decode()
    for encoded in (b"\xef\xbb\xbf" + simple, text.encode("utf-16"), text.encode("utf-32")):
        assert as_rows(poll(encoded)) == json.loads(simple)["_newswatch"]["expect"]


HUGE = "1" + "0" * 5000  # Python refuses to read an integer of more than 4,300 digits
MALFORMED = [
    ("not JSON", b"<html>this is a page</html>", ("soft", "not_json")),
    ("truncated", b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id"',
     ("soft", "not_json")),
    ("invalid UTF-8", b'{"version": "\xff\xfe\xfa"}', ("soft", "not_json")),
    ("deeply nested", b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
     ("soft", "not_json")),
    ("huge integer", f'{{"version": "https://jsonfeed.org/version/1", "items": [], "n": {HUGE}}}'
     .encode(), ("soft", "not_json")),
    ("a JSON list", b"[1, 2, 3]", ("soft", "not_a_json_feed")),
    ("no version", b'{"title": "x", "items": []}', ("soft", "not_a_json_feed")),
    ("version a number", b'{"version": 1.1, "items": []}', ("soft", "not_a_json_feed")),
    ("wrong version", b'{"version": "https://jsonfeed.org/version/2", "items": [{"url": "x"}]}',
     ("soft", "unknown_json_feed_version")),
    ("items not a list", b'{"version": "https://jsonfeed.org/version/1.1", "items": {"a": 1}}',
     ("soft", "json_feed_items_not_a_list")),
    ("items missing", b'{"version": "https://jsonfeed.org/version/1.1", "title": "x"}',
     ("soft", "json_feed_items_not_a_list")),
    ("items not objects", b'{"version": "https://jsonfeed.org/version/1.1", "items": [1, "a"]}',
     ("soft", "json_feed_items_not_objects")),
    ("no items", b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
     ("ok", "no_entries")),
]


@pytest.mark.parametrize(("body", "outcome"), [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_malformed_json_feeds_are_a_stored_outcome_not_a_crash(body: bytes, outcome) -> None:
    p = poll(body)
    assert (p.status, p.reason, p.entries) == (*outcome, ())


def test_wrong_types_and_huge_numbers_inside_items_are_ignored() -> None:
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": True, "url": "https://e.example/1", "title": ["x"], "summary": 5,
         "date_published": "99999-99-99T00:00:00Z", "size": 1e308 * 10},
        {"id": 10**40, "url": "https://e.example/2", "date_published": "0000-01-01T00:00:00Z",
         "content_text": 12, "authors": [{"name": 3}, "x"]},
        "a string among the items",
    ]}).encode()
    p = poll(body)
    assert (p.status, p.reason) == ("ok", "parsed_with_warnings")
    assert as_rows(p) == [["https://e.example/1", None, None, None, None],
                          ["https://e.example/2", str(10**40), None, None, None]]


@pytest.fixture
def web() -> NewsWeb:
    with news_web(hosts=1) as w:
        yield w


def test_add_discovers_an_announced_json_feed_preferring_feed_json(web: NewsWeb,
                                                                     tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [])
    host = web.hosts[0]
    body = (FIXTURES / "spec-1.1-simple.json").read_bytes()
    plain = web.put(host, "/plain.json", body, "application/json")
    feed = web.put(host, "/feed.json", body, "application/feed+json")
    page = web.put(host, "/", b'<html><head><link rel="alternate" type="application/json" '
                   b'href="/plain.json"><link rel="alternate" type="application/feed+json" '
                   b'title="JSON" href="/feed.json"></head></html>')
    out = cli("--config", str(cfg), "feeds", "add", page)
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout == (f'added "My Example Feed" {feed} (announced by the page\'s '
                          f'<link rel="alternate">) to {tmp_path}/feeds.toml\n')
    assert plain not in (tmp_path / "feeds.toml").read_text(encoding="utf-8")
    # Only application/json announced: taken, as the spec's fallback.
    only = web.put(host, "/only.html", b'<html><head><link rel="alternate" '
                   b'type="application/json" href="/plain.json"></head></html>')
    (tmp_path / "two").mkdir()
    cfg2 = write_config(tmp_path / "two", [])
    out = cli("--config", str(cfg2), "feeds", "add", only)
    assert out.stdout.startswith(f'added "My Example Feed" {plain} (announced')


def test_add_finds_a_json_feed_at_its_usual_path_and_opml_imports_one(web: NewsWeb,
                                                                       tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [])
    host = web.hosts[0]
    feed = web.put(host, "/feed.json", (FIXTURES / "spec-1.0-simple.json").read_bytes(),
                   "application/feed+json")
    page = web.put(host, "/about.html", b"<html><p>no links</p></html>")
    out = cli("--config", str(cfg), "feeds", "add", page)
    assert out.stdout == (f'added "My Example Feed" {feed} (found at a usual feed path) to '
                          f"{tmp_path}/feeds.toml\n")
    opml = tmp_path / "reader.opml"
    opml.write_text('<?xml version="1.0"?><opml version="2.0"><body>'
                    '<outline type="json" text="Micro" '
                    'xmlUrl="https://micro.example/u/feed.json"/></body></opml>',
                    encoding="utf-8")
    out = cli("--config", str(cfg), "feeds", "import", str(opml))
    assert out.stdout == (f"imported 1 feed(s) from {opml} into {tmp_path}/feeds.toml; "
                          f"0 already listed, 0 outline(s) without xmlUrl skipped\n")
    assert 'url = "https://micro.example/u/feed.json"' in (tmp_path / "feeds.toml").read_text()
