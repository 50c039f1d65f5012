"""A local news web for tests and benchmarks: real HTTP servers on 127.0.0.x (one address per
host name, so per-host politeness is real), serving feeds and article pages with configurable
latency and misbehaviour, and logging every request with its start, end and concurrency.

Behaviours, per (host, path) through `Page.behaviour` or a custom route:
  honest (ETag + Last-Modified, 304 when they match)   new_etag (a new ETag for the same body)
  stale_304 (304 to any validator, even after a change) none (no validators at all)
  status:N (e.g. status:500)   flaky:N (503 for the first N requests, then the page)
  retry_after:S (429 with Retry-After: S, once; then the page)   timeout (never answers in time)
  drip:S (the body a byte per S seconds)   redirect:URL   gzip_bomb:N (N bytes of zeros, gzipped)
  huge:N (N bytes)   charset_lie (Latin-1 bytes labelled UTF-8)
  gated (holds the request until `web.gate` is set, then answers honestly)
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import random
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WORDS = (
    "minister", "council", "budget", "river", "harbour", "election", "court", "ruling",
    "strike", "union", "energy", "price", "market", "shares", "bank", "rates", "inflation",
    "storm", "flood", "school", "hospital", "doctors", "nurses", "railway", "bridge",
    "airport", "pilots", "farmers", "harvest", "drought", "police", "inquiry", "report",
    "museum", "festival", "orchestra", "league", "final", "coach", "striker", "goal", "season",
    "transfer", "satellite", "launch", "rocket", "telescope", "climate", "summit", "treaty",
    "border", "trade", "tariffs", "export", "factory", "workers", "wages", "housing", "rent",
    "mayor", "city", "village", "island", "coast", "mountain", "forest", "wildlife", "vaccine",
    "virus", "study", "university", "students", "science", "research", "data", "software",
    "court", "appeal", "judge", "verdict", "senate", "vote", "reform", "tax", "pension",
    "budget", "deficit", "growth",
)


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    behaviour: str = "honest"
    modified: float = field(default_factory=time.time)
    served: int = 0  # requests answered so far (flaky/retry_after count on it)


@dataclass
class Hit:
    host: str
    path: str
    start: float
    end: float
    status: int
    headers: dict[str, str]


SYLLABLES = ("ka", "lo", "mi", "ren", "tor", "vas", "zel", "un", "bri", "sta", "gor", "pe",
             "dun", "ix", "mor", "al", "ven", "qui", "tha", "os")


def article_html(title: str, seed: int, paragraphs: int = 5) -> bytes:
    """A news-like page: common words plus a dozen names of its own (places, people), so
    that distinct stories read as distinct, as real ones do."""
    rnd = random.Random(seed)
    names = ["".join(rnd.choice(SYLLABLES) for _ in range(3)) for _ in range(12)]
    paras = "".join(
        "<p>" + " ".join(rnd.choice(names) if rnd.random() < 0.3 else rnd.choice(WORDS)
                         for _ in range(60)).capitalize() + ".</p>"
        for _ in range(paragraphs))
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}"
            f"</title></head><body><nav><a href=\"/\">Home</a></nav><article><h1>{title}</h1>"
            f"{paras}</article><footer>© The Simulated Times</footer></body></html>").encode()


def rss(title: str, items: list[tuple[str, str]], extra_channel: str = "") -> bytes:
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>Mon, 10 Feb 2025 0{i % 10}:00:00 GMT</pubDate></item>"
        for i, (t, link) in enumerate(items))
    return (f"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>"
            f"<title>{title}</title><link>http://example.org/</link>{extra_channel}{entries}"
            f"</channel></rss>").encode()


class NewsWeb:
    """Start with `with news_web(hosts=3, latency_s=0.05) as web:`; `web.url(h, path)`."""

    def __init__(self, hosts: int, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self.hosts = [f"127.0.0.{10 + i}" for i in range(hosts)]
        self.pages: dict[tuple[str, str], Page] = {}
        self.log: list[Hit] = []
        self.ports: dict[str, int] = {}
        self._lock = threading.Lock()
        self._active: dict[str, int] = defaultdict(int)
        self.peak: dict[str, int] = defaultdict(int)  # most requests open at once, per host
        self._servers: list[ThreadingHTTPServer] = []
        self.gate = threading.Event()  # releases the requests for pages marked "gated"

    # --- the world ---------------------------------------------------------------------------

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.ports[host]}{path}"

    def put(self, host: str, path: str, body: bytes, content_type: str = "text/html; "
            "charset=utf-8", behaviour: str = "honest") -> str:
        self.pages[(host, path)] = Page(body, content_type, behaviour)
        return self.url(host, path)

    def add_feed(self, host: str, name: str, articles: int, behaviour: str = "honest",
                 extra_channel: str = "") -> str:
        """A feed with `articles` new article pages on the same host; returns its URL."""
        items = []
        for k in range(articles):
            path = f"/{name}/story-{k}.html"
            title = f"{name} story {k}"
            seed = int(hashlib.sha1(f"{host}{path}".encode()).hexdigest()[:8], 16)
            self.put(host, path, article_html(title, seed))
            items.append((title, self.url(host, path)))
        return self.put(host, f"/{name}/feed.xml", rss(name, items, extra_channel),
                        "application/rss+xml; charset=utf-8", behaviour)

    def add_items(self, host: str, name: str, items: list[tuple[str, str]]) -> None:
        """Append items to a feed (its body changes; an honest server's ETag with it)."""
        page = self.pages[(host, f"/{name}/feed.xml")]
        body = page.body.decode()
        extra = "".join(f"<item><title>{t}</title><link>{u}</link><guid>{u}</guid></item>"
                        for t, u in items)
        page.body = body.replace("</channel>", extra + "</channel>").encode()
        page.modified = time.time()

    def hits(self, host: str | None = None, path: str | None = None) -> list[Hit]:
        return [h for h in self.log
                if (host is None or h.host == host) and (path is None or h.path == path)]

    # --- serving -----------------------------------------------------------------------------

    def _handler(self, host: str) -> type[BaseHTTPRequestHandler]:
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                hit = Hit(host, self.path, time.monotonic(), 0.0, 0,
                          {k.lower(): v for k, v in self.headers.items()})
                self.hit = hit
                with web._lock:  # logged on arrival: a client may read the log on its reply
                    web.log.append(hit)
                    web._active[host] += 1
                    web.peak[host] = max(web.peak[host], web._active[host])
                try:
                    if web.latency_s:
                        time.sleep(web.latency_s)
                    hit.status = web._answer(self, host)
                except (BrokenPipeError, ConnectionResetError):
                    hit.status = -1  # the client hung up (a cap or a timeout on its side)
                finally:
                    with web._lock:
                        web._active[host] -= 1
                        hit.end = time.monotonic()

            def send_response(self, code: int, message: str | None = None) -> None:
                self.hit.status = code  # before the reply leaves, for the same reason
                super().send_response(code, message)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def _answer(self, h: BaseHTTPRequestHandler, host: str) -> int:
        page = self.pages.get((host, h.path))
        if page is None:
            return _send(h, 404, b"not found")
        with self._lock:
            page.served += 1
            n = page.served
        kind, _, arg = page.behaviour.partition(":")
        etag = '"' + hashlib.sha1(page.body).hexdigest()[:16] + '"'
        modified = email.utils.formatdate(page.modified, usegmt=True)
        headers = {"Content-Type": page.content_type}
        if kind == "status":
            return _send(h, int(arg), b"error")
        if kind == "flaky" and n <= int(arg):
            return _send(h, 503, b"busy")
        if kind == "retry_after" and n == 1:
            return _send(h, 429, b"slow down", {"Retry-After": arg})
        if kind == "gated":
            self.gate.wait()
            kind = "honest"
        if kind == "timeout":
            time.sleep(float(arg or 5))
            return _send(h, 200, page.body, headers)
        if kind == "redirect":
            return _send(h, 302, b"", {"Location": arg})
        if kind == "huge":
            return _send(h, 200, b"<p>" + b"x" * int(arg), headers)
        if kind == "gzip_bomb":
            bomb = gzip.compress(b"\0" * int(arg))
            return _send(h, 200, bomb, {**headers, "Content-Encoding": "gzip"})
        if kind == "drip":
            h.send_response(200)
            h.send_header("Content-Type", page.content_type)
            h.send_header("Content-Length", str(len(page.body)))
            h.end_headers()
            for i in range(len(page.body)):
                h.wfile.write(page.body[i:i + 1])
                h.wfile.flush()
                time.sleep(float(arg))
            return 200
        if kind == "charset_lie":
            return _send(h, 200, page.body.decode().encode("latin-1", "replace"), headers)
        if kind == "honest":
            headers |= {"ETag": etag, "Last-Modified": modified}
            if h.headers.get("If-None-Match") == etag:
                return _send(h, 304, b"", {"ETag": etag})
        elif kind == "new_etag":
            headers["ETag"] = f'"{random.getrandbits(64):x}"'
        elif kind == "stale_304":
            headers["ETag"] = '"v1"'
            if h.headers.get("If-None-Match"):
                return _send(h, 304, b"", {"ETag": '"v1"'})
        return _send(h, 200, page.body, headers)

    def start(self) -> None:
        for host in self.hosts:
            httpd = ThreadingHTTPServer((host, 0), self._handler(host))
            httpd.daemon_threads = True
            httpd.request_queue_size = 128
            self.ports[host] = httpd.server_address[1]
            threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                             daemon=True).start()
            self._servers.append(httpd)

    def stop(self) -> None:
        self.gate.set()
        for httpd in self._servers:
            httpd.shutdown()
            httpd.server_close()


def _send(h: BaseHTTPRequestHandler, code: int, body: bytes,
          headers: dict[str, str] | None = None) -> int:
    h.send_response(code)
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if body:
        h.wfile.write(body)
    return code


@contextmanager
def news_web(hosts: int = 3, latency_s: float = 0.0) -> Iterator[NewsWeb]:
    web = NewsWeb(hosts, latency_s)
    web.start()
    try:
        yield web
    finally:
        web.stop()
