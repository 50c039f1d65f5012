"""Feed conformance: our fetch-and-parse path against feedparser on its own.

Every case of `feeds/feedparser-cases` (index.jsonl gives the expectation, a Python expression
over the parse result, and the HTTP headers the case simulates) is served over loopback HTTP
with those headers, fetched through the HTTP seam and parsed by `tasks.parse.parse_bytes`; the
same bytes go to `feedparser.parse` directly. Target: every case feedparser passes alone also
passes through our path. `feeds/charset-cases` (Miniflux's charset files) carry no expectations
of their own; the table below states them: the text a reader must see.

    python bench/feed_conformance.py [--corpus ../shared/corpus] [--show-failures]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import feedparser

from newswatch.config import FetchConfig
from tasks.encoding import decode
from tasks.http import Fetcher
from tasks.parse import parse_bytes

# charset-cases: file → (kind, what a reader must see). "feed": the feed title and the first
# entry title after parsing; "text": strings the decoded document must contain.
CHARSET_EXPECT: dict[str, tuple[str, tuple[str, ...]]] = {
    "encoding/testdata/invalid-prolog.xml": ("feed", ("테스트 피드", "Café")),
    "encoding/testdata/utf8-incorrect-prolog.xml": ("feed", ("테스트 피드", "Café")),
    "encoding/testdata/utf8.xml": ("feed", ("테스트 피드", "Café")),
    "encoding/testdata/iso-8859-1.xml": ("feed", ("Café", "")),
    "encoding/testdata/koi8r.xml": ("feed", ("Пример RSS ленты", "Первая новость")),
    "xml/testdata/koi8r.xml": ("feed", ("Пример RSS ленты", "Первая новость")),
    "encoding/testdata/windows-1252.xml": ("feed", ("Euro €", "")),
    "encoding/testdata/windows-1252-incorrect-prolog.xml": ("feed", ("Euro €", "")),
    "xml/testdata/iso88591.xml": ("text", ("Anaïs", "Jürgen")),
    "xml/testdata/iso88591_utf8_mismatch.xml": ("text", ("Anaïs", "Jürgen")),
    "encoding/testdata/utf8.html": ("text", ("Café",)),
    "encoding/testdata/iso-8859-1.html": ("text", ("Frédéric",)),
    "encoding/testdata/utf8-meta-after-1024.html": ("text", ("Frédéric",)),
    "encoding/testdata/iso-8859-1-meta-after-1024.html": ("text", ("Frédéric",)),
}
MOJIBAKE = ("\ufffd", "Ã©", "Ã¨", "Ã¼", "Ã¶", "â€", "Ð¾", "Ð°", "Ñ\x80")


def serve(files: dict[str, tuple[bytes, dict[str, str]]]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, headers = files[self.path]
            self.send_response(200)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


async def fetch_all(base: str, paths: list[str]) -> dict[str, Any]:
    cfg = FetchConfig(allow_private_networks=True, per_host_concurrency=16,
                      per_host_interval_s=0.0, max_retries=0)
    async with Fetcher(cfg) as f:
        results = await asyncio.gather(*(f.get(base + p, max_bytes=10_000_000) for p in paths))
    return dict(zip(paths, results, strict=True))


def check(expect: str, result: Any) -> bool:
    env = {"feedparser": feedparser, "datetime": datetime, "time": time}
    try:
        return bool(eval(expect, env, result))  # the corpus's own expressions
    except Exception:  # an expectation that cannot even be evaluated is a failure
        return False


def feedparser_cases(root: Path, show: bool) -> tuple[Counter, Counter, Counter, list[str]]:
    cases = [json.loads(line) for line in (root / "index.jsonl").read_text().splitlines()]
    files, runnable = {}, []
    for i, c in enumerate(cases):
        if c["skip_unless"]:
            try:
                if not eval(c["skip_unless"]):
                    continue
            except Exception:  # the case's own guard failed: it does not apply here
                continue
        files[f"/{i}"] = ((root / c["path"]).read_bytes(), c["http_headers"] or {})
        runnable.append((i, c))
    server, base = serve(files)
    try:
        fetched = asyncio.run(fetch_all(base, list(files)))
    finally:
        server.shutdown()
    alone, ours, total, regressions = Counter(), Counter(), Counter(), []
    for i, c in runnable:
        body, headers = files[f"/{i}"]
        cat = c["category"]
        total[cat] += 1
        # feedparser's own fetcher hands it lower-case header names; so do we.
        lower = {k.lower(): v for k, v in headers.items()}
        a = check(c["expect"], feedparser.parse(body, response_headers=lower or None))
        f = fetched[f"/{i}"]
        hdrs = {k: v for k, v in f.headers.items() if k == "content-type"}
        o = f.ok and check(c["expect"], parse_bytes(f.body, hdrs))
        alone[cat] += a
        ours[cat] += o
        if a and not o:
            regressions.append(f"{c['path']}: {c['expect']}")
    return alone, ours, total, regressions


def charset_cases(root: Path) -> list[tuple[str, bool, bool]]:
    out = []
    for rel, (kind, want) in CHARSET_EXPECT.items():
        body = (root / "internal" / "reader" / rel).read_bytes()
        if kind == "text":
            ours_text = decode(body).text
            alone_text = body.decode("utf-8", "replace")
            ok = [all(w in t for w in want) and not any(m in t for m in MOJIBAKE)
                  for t in (alone_text, ours_text)]
        else:
            ok = []
            for parsed in (feedparser.parse(body), parse_bytes(body, {})):
                got = (parsed.feed.get("title", ""),
                       parsed.entries[0].get("title", "") if parsed.entries else "")
                ok.append(got[0] == want[0] and (not want[1] or got[1] == want[1]))
        out.append((rel, ok[0], ok[1]))
    for rel in sorted((root / "internal/reader/parser/testdata").glob("*.xml")):
        body = rel.read_bytes()
        res = []
        for parsed in (feedparser.parse(body), parse_bytes(body, {})):
            text = " ".join([parsed.feed.get("title", "")] +
                            [e.get("title", "") + e.get("summary", "") for e in parsed.entries])
            res.append(bool(parsed.entries) and not any(m in text for m in MOJIBAKE))
        out.append((f"parser/testdata/{rel.name}", res[0], res[1]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=os.environ.get("NEWSWATCH_CORPUS", "../shared/corpus"))
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args()
    feeds = Path(args.corpus) / "feeds"
    alone, ours, total, regressions = feedparser_cases(feeds / "feedparser-cases",
                                                       args.show_failures)
    print("feedparser-cases          cases  feedparser alone   our path")
    for cat in sorted(total):
        print(f"  {cat:<22}{total[cat]:>6}  {alone[cat]:>6} ({alone[cat] / total[cat]:6.1%})"
              f"  {ours[cat]:>5} ({ours[cat] / total[cat]:6.1%})")
    n, a, o = sum(total.values()), sum(alone.values()), sum(ours.values())
    print(f"  {'all':<22}{n:>6}  {a:>6} ({a / n:6.1%})  {o:>5} ({o / n:6.1%})")
    print(f"  passed by feedparser alone but not by our path: {len(regressions)}")
    for r in regressions if args.show_failures else regressions[:10]:
        print(f"    {r}")
    rows = charset_cases(feeds / "charset-cases")
    print("charset-cases                                         feedparser/raw  our path")
    for rel, a_ok, o_ok in rows:
        print(f"  {rel:<52}{'pass' if a_ok else 'FAIL':>8}  {'pass' if o_ok else 'FAIL':>8}")
    print(f"  passed: feedparser/raw {sum(r[1] for r in rows)}/{len(rows)}, "
          f"our path {sum(r[2] for r in rows)}/{len(rows)}")


if __name__ == "__main__":
    main()
