"""`newswatch feeds add/import/export/list/remove`: discovery against the local news web,
exact output and exact errors, and a feeds file whose comments survive every edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.simulator import NewsWeb, news_web, rss
from tests.test_cli import cli


@pytest.fixture
def web() -> NewsWeb:
    with news_web(hosts=2) as w:
        yield w


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    cfg = write_config(tmp_path, [])
    feeds = tmp_path / "feeds.toml"
    feeds.write_text("# My feeds — keep this comment.\n", encoding="utf-8")
    return cfg, feeds


def test_add_a_feed_by_its_own_address_then_list_and_remove_it(web: NewsWeb,
                                                               tmp_path: Path) -> None:
    cfg, feeds = _setup(tmp_path)
    url = web.add_feed(web.hosts[0], "world", 1)
    out = cli("--config", str(cfg), "feeds", "add", url, "--outlet", "The World")
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout == f'added "world" {url} (the address is a feed) to {feeds}\n'
    assert feeds.read_text(encoding="utf-8") == (
        "# My feeds — keep this comment.\n\n[[feed]]\nname = \"world\"\n"
        f"outlet = \"The World\"\nurl = \"{url}\"\n")
    listed = cli("--config", str(cfg), "feeds", "list").stdout.splitlines()
    assert listed[0].split() == ["name", "outlet", "enabled", "url"]
    assert listed[2].split() == ["world", "The", "World", "yes", url]
    assert listed[3] == "(1 row)"
    again = cli("--config", str(cfg), "feeds", "add", url)
    assert (again.returncode, again.stderr) == (1, f"error: {url} is already in {feeds}.\n")
    gone = cli("--config", str(cfg), "feeds", "remove", url)
    assert gone.stdout == f"removed {url} from {feeds} (its articles stay in the warehouse)\n"
    assert feeds.read_text(encoding="utf-8") == "# My feeds — keep this comment.\n\n"
    missing = cli("--config", str(cfg), "feeds", "remove", url)
    assert (missing.returncode, missing.stderr) == (
        1, f'error: no [[feed]] with url = "{url}" in {feeds}. '
           f"`newswatch feeds list` shows the urls.\n")


def test_add_discovers_the_feeds_a_page_announces(web: NewsWeb, tmp_path: Path) -> None:
    cfg, feeds = _setup(tmp_path)
    host = web.hosts[0]
    world = web.add_feed(host, "world", 1)
    sport = web.add_feed(host, "sport", 1)
    page = web.put(host, "/", b"<html><head><title>Site</title>"
                   b'<link rel="alternate" type="application/rss+xml" href="/world/feed.xml">'
                   b'<link rel="alternate" type="application/atom+xml" href="'
                   + sport.encode() + b'"><link rel="stylesheet" href="/s.css"></head></html>')
    out = cli("--config", str(cfg), "feeds", "add", page)
    assert out.stdout == (
        f'added "world" {world} (announced by the page\'s <link rel="alternate">) to {feeds}\n'
        f"also offered: {sport} (sport)\n")


def test_add_finds_a_feed_at_a_usual_path(web: NewsWeb, tmp_path: Path) -> None:
    cfg, feeds = _setup(tmp_path)
    host = web.hosts[1]
    page = web.put(host, "/news/today.html", b"<html><p>no links here</p></html>")
    feed = web.put(host, "/rss.xml", rss("Usual Times", [("a", "http://example.org/a")]),
                   "application/rss+xml")
    out = cli("--config", str(cfg), "feeds", "add", page)
    assert out.stdout == f'added "Usual Times" {feed} (found at a usual feed path) to {feeds}\n'


def test_add_says_plainly_when_there_is_no_feed(web: NewsWeb, tmp_path: Path) -> None:
    cfg, feeds = _setup(tmp_path)
    page = web.put(web.hosts[0], "/plain.html", b"<html><p>nothing</p></html>")
    out = cli("--config", str(cfg), "feeds", "add", page)
    assert (out.returncode, out.stdout) == (1, "")
    assert out.stderr == (f"error: no feed found at {page}: no feed announced by the page or at "
                          f"the usual paths. Give the feed's own address, or check the site in "
                          f"a browser.\n")
    down = cli("--config", str(cfg), "feeds", "add", web.url(web.hosts[0], "/missing"))
    assert down.stderr.startswith(f"error: no feed found at {web.url(web.hosts[0], '/missing')}"
                                  f": hard (http_404).")
    assert feeds.read_text(encoding="utf-8") == "# My feeds — keep this comment.\n"


def test_opml_import_and_export(tmp_path: Path) -> None:
    cfg, feeds = _setup(tmp_path)
    opml = tmp_path / "reader.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        '<outline text="News">'
        '<outline type="rss" text="BBC World" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>'
        '<outline type="rss" title="Guardian &amp; World" text="g" '
        'xmlUrl="https://www.theguardian.com/world/rss"/>'
        "</outline>"
        '<outline type="rss" text="BBC again" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>'
        '<outline text="a bookmark, not a feed" htmlUrl="https://example.org/"/>'
        "</body></opml>", encoding="utf-8")
    out = cli("--config", str(cfg), "feeds", "import", str(opml))
    assert out.stdout == (f"imported 2 feed(s) from {opml} into {feeds}; 1 already listed, "
                          f"1 outline(s) without xmlUrl skipped\n")
    exported = cli("--config", str(cfg), "feeds", "export").stdout
    assert exported == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n'
        "  <head><title>newswatch feeds</title></head>\n  <body>\n"
        '    <outline type="rss" text="BBC World" title="BBC World" '
        'xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>\n'
        '    <outline type="rss" text="Guardian &amp; World" title="Guardian &amp; World" '
        'xmlUrl="https://www.theguardian.com/world/rss"/>\n'
        "  </body>\n</opml>\n")
    # The export imports back as nothing new.
    (tmp_path / "back.opml").write_text(exported, encoding="utf-8")
    back = cli("--config", str(cfg), "feeds", "import", str(tmp_path / "back.opml"))
    assert back.stdout.startswith("imported 0 feed(s)")


def test_a_broken_opml_file_is_named_with_its_line(tmp_path: Path) -> None:
    cfg, feeds = _setup(tmp_path)
    bad = tmp_path / "bad.opml"
    bad.write_text('<?xml version="1.0"?>\n<opml>\n<body>\n<outline text="x">\n</opml>\n',
                   encoding="utf-8")
    out = cli("--config", str(cfg), "feeds", "import", str(bad))
    assert out.returncode == 2
    assert out.stderr.startswith(f"error: {bad}, line 5: not well-formed OPML (")
    assert out.stderr.endswith("). Export it again from your reader, or fix that line.\n")
    assert feeds.read_text(encoding="utf-8") == "# My feeds — keep this comment.\n"
