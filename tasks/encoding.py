"""Bytes to text by the rules: a byte-order mark, then the HTTP charset, then the document's own
declaration (XML prolog or HTML meta), then detection as the last resort.

Two corrections keep mojibake out of the warehouse. A declared single-byte charset (Latin-1,
Windows-125x, KOI8…) loses to UTF-8 when the bytes are valid UTF-8 with multi-byte sequences:
real Latin-1 text almost never forms valid UTF-8, while UTF-8 served under a stale Latin-1
label is common. And a declared charset that Python does not know, or that cannot decode the
bytes, falls through to the next rule instead of failing.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
SNIFF_BYTES = 8192  # HTML meta charset may stand after 1024 bytes of comments (Miniflux case)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)[\"']", re.I)
_META = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python codec name actually used
    source: str  # bom, http, declared, utf8_over_declared, cp1252_under_utf8, detected, fallback


def codec(name: str | None) -> str | None:
    """Python's canonical codec name for a charset label, or None if unknown."""
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None


def http_charset(content_type: str | None) -> str | None:
    m = _HTTP_CHARSET.search(content_type or "")
    return m.group(1) if m else None


def declared_charset(body: bytes) -> str | None:
    head = body[:SNIFF_BYTES]
    m = _XML_DECL.search(head) or _META.search(head)
    return m.group(1).decode("ascii", "replace") if m else None


SINGLE_BYTE = {"latin-1", "iso8859-1", "cp1252", "cp1251", "cp1250", "cp1253", "cp1254",
               "cp1255", "cp1256", "cp1257", "koi8-r", "koi8-u", "iso8859-2", "iso8859-15",
               "ascii", "mac-roman"}


# Code pages that detection confuses with Windows-1252 on a few accented letters.
LATIN_LOOKALIKES = {"cp1250", "iso8859-2", "cp1257", "iso8859-4", "iso8859-13", "mac-latin2",
                    "iso8859-1", "latin-1", "iso8859-15", "iso8859-9", "cp1254"}


def _is_multibyte_utf8(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _labels(body: bytes, content_type: str | None) -> list[tuple[str, str]]:
    """The known charsets the response names, in the order they count: HTTP, then the
    document's declaration."""
    found = [("http", codec(http_charset(content_type))),
             ("declared", codec(declared_charset(body)))]
    return [(source, name) for source, name in found if name]


def stale_single_byte_label(body: bytes, content_type: str | None = None) -> bool:
    """True when the charset that counts is single-byte but the bytes are multi-byte UTF-8
    (and there is no byte-order mark, which would settle it)."""
    if any(body.startswith(bom) for bom, _ in BOMS):
        return False
    labels = _labels(body, content_type)
    return bool(labels) and labels[0][1] in SINGLE_BYTE and _is_multibyte_utf8(body)


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    for bom, name in BOMS:
        if body.startswith(bom):
            return Decoded(body[len(bom):].decode(name, "replace"), name, "bom")
    if stale_single_byte_label(body, content_type):
        return Decoded(body.decode("utf-8"), "utf-8", "utf8_over_declared")
    utf8_lied = False
    for source, name in _labels(body, content_type):
        try:
            return Decoded(body.decode(name), name, source)
        except UnicodeDecodeError:
            utf8_lied = utf8_lied or name == "utf-8"
            continue  # the label lies: try the next rule
    try:
        return Decoded(body.decode("utf-8"), "utf-8", "detected")
    except UnicodeDecodeError:
        pass
    if utf8_lied:  # "UTF-8" that is not: nearly always Windows-1252 under a template's label
        return Decoded(body.decode("cp1252", "replace"), "cp1252", "cp1252_under_utf8")
    best = charset_normalizer.from_bytes(body[:200_000]).best()
    name = codec(best.encoding) if best is not None else None
    if name in LATIN_LOOKALIKES:
        name = "cp1252"  # short texts: detection cannot tell these apart; Western is commoner
    if name:
        return Decoded(body.decode(name, "replace"), name, "detected")
    return Decoded(body.decode("cp1252", "replace"), "cp1252", "fallback")
