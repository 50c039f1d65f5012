"""Canonical URLs across sites: a page may not take another outlet's identity, unless the
warehouse holds that URL with the same text (a syndicated copy) or the sites are partners."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from newswatch.config import ConfigError, load_config
from tasks.canonical import judge, site
from tasks.dedup import dedup
from tasks.load import load
from tasks.models import Entry, Extraction
from tests.conftest import write_config
from warehouse import db

ORIGINAL = "https://www.outlet-a.com/world/story"
TEXT = ("The minister resigned on Tuesday after a week of pressure over the budget. "
        "Her deputy takes over until a vote next month.")
OTHER = "Buy cheap pills now. This page is not the outlet's article at all, whatever it says."


def test_registrable_domains_from_the_bundled_suffix_list() -> None:
    assert [site(u) for u in (
        "https://news.bbc.co.uk/a", "https://www.bbc.co.uk/b", "http://a.b.example.com:8080/",
        "https://alice.github.io/x", "https://bob.github.io/y", "http://127.0.0.1:8000/p",
        "http://[::1]:80/", "localhost", "WWW.Heise.DE", "https://www.dailymeridian.example/")
    ] == ["bbc.co.uk", "bbc.co.uk", "example.com", "alice.github.io", "bob.github.io",
          "127.0.0.1", "::1", "localhost", "heise.de", "dailymeridian.example"]


def test_the_suffix_list_is_never_fetched() -> None:
    """In a fresh interpreter, network calls and file opens are audited while tldextract is
    imported and used: no name looked up, no connection, and the only list read is the
    snapshot it bundles."""
    code = (
        "import sys\n"
        "seen = []\n"
        "NET = ('socket.connect', 'socket.getaddrinfo', 'socket.gethostbyname', "
        "'socket.sendto', 'urllib.Request')\n"
        "def hook(event, args):\n"
        "    if event in NET: seen.append(event)\n"
        "    name = str(args[0]) if event == 'open' else ''\n"
        "    if 'tldextract' in name and not name.endswith(('.pyc', '.py', '.txt')):\n"
        "        seen.append(name.rsplit('/', 1)[-1])\n"
        "sys.addaudithook(hook)\n"
        "from tasks.canonical import site\n"
        "print(site('https://news.bbc.co.uk/x'), seen)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent.parent)
    assert out.stdout == "bbc.co.uk ['.tld_set_snapshot']\n"


def test_judge() -> None:
    none: dict[str, frozenset[str]] = {}
    assert judge("https://a.com/x", None, False, none) == ("https://a.com/x", "own_site")
    assert judge("https://m.a.com/x", "https://www.a.com/x", False, none) == (
        "https://www.a.com/x", "own_site")
    assert judge("https://b.net/x", "https://a.com/x", True, none) == (
        "https://a.com/x", "known_copy")
    assert judge("https://b.net/x", "https://a.com/x", False, none) == (
        "https://b.net/x", "untrusted")
    assert judge("file:///srv/news/x.html", "https://a.com/x", False, none) == (
        "https://a.com/x", "local_file")
    partners = {"a.com": frozenset({"a.com", "b.net"}), "b.net": frozenset({"a.com", "b.net"})}
    assert judge("https://b.net/x", "https://a.com/x", False, partners) == (
        "https://a.com/x", "partner")


def page(url: str, canonical: str | None, text: str, title: str = "Minister resigns"
         ) -> Extraction:
    entry = Entry(entry_url=url, feed_url="https://feeds.example/f", guid=None, title=title,
                  summary=None, published_at=None, outlet="O")
    return Extraction(entry=entry, status="ok", reason="extracted", url=url,
                      canonical_url=canonical, title=title, text=text, method="trafilatura")


def store(cfg_path: Path, *pages: Extraction) -> list[tuple]:
    cfg = load_config(cfg_path)
    found = dedup(cfg, list(pages))
    load(cfg, "r1", [], list(pages), found)
    with duckdb.connect(str(cfg.warehouse_path), read_only=True) as con:
        return con.execute("SELECT canonical_url, url, claimed_canonical_url, text FROM articles "
                           "ORDER BY first_seen_at, canonical_url").fetchall()


def set_partners(cfg: Path, value: str) -> int:
    """Replace the test config's partners (tests/conftest.py names the fixture's); return the
    line number."""
    lines = cfg.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("syndication_partners"))
    lines[at] = f'syndication_partners = "{value}"'
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return at + 1


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = write_config(tmp_path, [])
    db.migrate(tmp_path / "nw.duckdb")
    store(path, page(ORIGINAL, None, TEXT))
    return path


def test_another_site_cannot_take_an_outlets_identity(cfg: Path) -> None:
    rows = store(cfg, page("https://evil.example/p", ORIGINAL, OTHER))
    assert rows == [(ORIGINAL, ORIGINAL, None, TEXT),
                    ("https://evil.example/p", "https://evil.example/p", ORIGINAL, OTHER)]
    with duckdb.connect(str(cfg.parent / "nw.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM article_versions").fetchone() == (0,)


def test_a_syndicated_copy_with_the_same_text_keeps_the_originals_identity(cfg: Path) -> None:
    rows = store(cfg, page("https://copies.example.net/wire/1", ORIGINAL, TEXT))
    assert rows == [(ORIGINAL, ORIGINAL, None, TEXT)]
    with duckdb.connect(str(cfg.parent / "nw.duckdb"), read_only=True) as con:
        assert con.execute("SELECT url FROM sightings ORDER BY url").fetchall() == [
            ("https://copies.example.net/wire/1",), (ORIGINAL,)]


def test_same_site_claims_are_trusted_as_before(cfg: Path) -> None:
    rows = store(cfg, page("https://m.outlet-a.com/amp/story", ORIGINAL + "-2", OTHER))
    assert rows[1] == (ORIGINAL + "-2", "https://m.outlet-a.com/amp/story", None, OTHER)


def test_syndication_partners_are_trusted(cfg: Path) -> None:
    set_partners(cfg, "outlet-a.com partner-b.com; x.com, y.org")
    rows = store(cfg, page("https://www.partner-b.com/p", ORIGINAL, OTHER))
    assert rows == [(ORIGINAL, ORIGINAL, None, OTHER)]  # the partner's text: a new version
    with duckdb.connect(str(cfg.parent / "nw.duckdb"), read_only=True) as con:
        assert con.execute("SELECT version, text FROM article_history ORDER BY version"
                           ).fetchall() == [(1, TEXT), (2, OTHER)]


def test_a_partner_that_is_not_a_site_is_named_with_the_fix(tmp_path: Path) -> None:
    path = write_config(tmp_path, [])
    line = set_partners(path, "apnews.com www.wtop.com")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(e.value) == (
        f"{path}, line {line}: dedup.syndication_partners: "
        f"'www.wtop.com' is not a site's registrable domain. Name sites as bbc.co.uk or "
        f"apnews.com (no www., no scheme), groups split by ';'.")
