"""Editing the feeds file for `newswatch feeds add/import/remove`, and OPML in and out.

The file is edited as text so its comments stay: a feed is appended as a `[[feed]]` block, and
removed by deleting its block (the `[[feed]]` line and the `key = value` lines under it). After
every edit the file is loaded again with the strict loader; if that fails, the old text is put
back and the error is raised, so an edit never leaves a broken file behind.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.sax.saxutils import quoteattr

from lxml import etree

from newswatch.config import ConfigError, FeedSpec, load_feeds


def _block(name: str, url: str, outlet: str = "") -> str:
    lines = ["[[feed]]", f"name = {json.dumps(name, ensure_ascii=False)}"]
    if outlet:
        lines.append(f"outlet = {json.dumps(outlet, ensure_ascii=False)}")
    lines.append(f"url = {json.dumps(url)}")
    return "\n".join(lines) + "\n"


def _write_checked(file: Path, text: str) -> tuple[FeedSpec, ...]:
    old = file.read_text(encoding="utf-8") if file.exists() else None
    file.write_text(text, encoding="utf-8")
    try:
        return load_feeds(file)
    except ConfigError:
        if old is None:
            file.unlink()
        else:
            file.write_text(old, encoding="utf-8")
        raise


def append(file: Path, feeds: list[tuple[str, str, str]]) -> tuple[FeedSpec, ...]:
    """Append (name, url, outlet) feeds as blocks; return the feeds the file now lists."""
    text = file.read_text(encoding="utf-8") if file.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    for name, url, outlet in feeds:
        text += "\n" + _block(name, url, outlet)
    return _write_checked(file, text)


_KEY = re.compile(r'^\s*"?[A-Za-z_][\w-]*"?\s*=')


def remove(file: Path, url: str) -> bool:
    """Delete the block whose url is `url`; False when no block has it."""
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    i = 0
    while i < len(lines):
        if lines[i].strip() == "[[feed]]":
            end = i + 1
            while end < len(lines) and _KEY.match(lines[end]):
                end += 1
            block = "".join(lines[i + 1:end])
            m = re.search(r'^\s*url\s*=\s*"([^"]*)"', block, re.M)
            if m and m.group(1) == url:
                if end < len(lines) and not lines[end].strip():
                    end += 1  # and the blank line after it
                _write_checked(file, "".join(lines[:i] + lines[end:]))
                return True
            i = end
        else:
            i += 1
    return False


def read_opml(file: Path) -> tuple[list[tuple[str, str]], int]:
    """(title, xmlUrl) of every feed outline, and how many outlines had no xmlUrl."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        root = etree.parse(str(file), parser).getroot()
    except OSError:
        raise ConfigError(f"{file}: no such file.") from None
    except etree.XMLSyntaxError as e:
        line = e.lineno or 0
        raise ConfigError(f"{file}, line {line}: not well-formed OPML ({e.msg}). "
                          f"Export it again from your reader, or fix that line.") from None
    feeds, skipped = [], 0
    for o in root.iter("outline"):
        url = (o.get("xmlUrl") or o.get("xmlurl") or "").strip()
        if not url:
            skipped += 1 if not len(o) else 0  # folders hold outlines; they are not skipped
            continue
        feeds.append(((o.get("title") or o.get("text") or url).strip(), url))
    return feeds, skipped


def to_opml(feeds: tuple[FeedSpec, ...]) -> str:
    body = "".join(
        f"    <outline type=\"rss\" text={quoteattr(f.name or f.url)} "
        f"title={quoteattr(f.name or f.url)} xmlUrl={quoteattr(f.url)}/>\n"
        for f in feeds)
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n"
            "  <head><title>newswatch feeds</title></head>\n  <body>\n"
            f"{body}  </body>\n</opml>\n")
