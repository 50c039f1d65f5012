"""Real servers on 127.0.0.1 for the tests: a static site for the fixture with scripted
misbehaviour per path, and a webhook receiver. Each runs in a thread and logs every request."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Server:
    url: str
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    routes: dict[str, Route] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=list)

    def hits(self, path: str) -> int:
        return sum(1 for _, p, _ in self.requests if p == path)


@contextmanager
def _serving(handler_cls: type, state: Server) -> Iterator[Server]:
    """Run `handler_cls` on a free loopback port in a thread until the block ends."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def static_site(root: Path) -> Iterator[Server]:
    """Serve `root` as files; `server.routes[path]` overrides a path with a scripted answer."""
    state = Server(url="")

    class Handler(SimpleHTTPRequestHandler):
        extensions_map: ClassVar[dict[str, str]] = {
            **SimpleHTTPRequestHandler.extensions_map,
            ".atom": "application/atom+xml", ".xml": "application/rss+xml"}

        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, directory=str(root), **kw)

        def do_GET(self) -> None:
            state.requests.append(("GET", self.path, dict(self.headers)))
            route = state.routes.get(self.path)
            if route:
                route(self)
            else:
                super().do_GET()

        def log_message(self, *args: Any) -> None:
            pass

    with _serving(Handler, state):
        yield state


@contextmanager
def webhook_receiver() -> Iterator[Server]:
    """Accepts POSTs (Apprise's json:// channel) and keeps their bodies; a route on a path can
    answer otherwise (e.g. 503 while the channel is 'down')."""
    state = Server(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = self.rfile.read(length)
            state.requests.append(("POST", self.path, dict(self.headers)))
            route = state.routes.get(self.path)
            if route:
                route(self)
                return
            state.bodies.append(body)
            reply(self, 200, b"{}", "application/json")

        def log_message(self, *args: Any) -> None:
            pass

    with _serving(Handler, state):
        yield state


def reply(h: BaseHTTPRequestHandler, code: int, body: bytes = b"",
          content_type: str = "text/html; charset=utf-8", headers: dict[str, str] | None = None,
          ) -> None:
    h.send_response(code)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(body)


def status(code: int) -> Route:
    return lambda h: reply(h, code, f"status {code}".encode())


def slow(seconds: float) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        reply(h, 200, b"late")
    return route


def redirect(to: str) -> Route:
    return lambda h: reply(h, 302, b"", headers={"Location": to})


def body(data: bytes, content_type: str = "text/html; charset=utf-8") -> Route:
    return lambda h: reply(h, 200, data, content_type)


def chunked(size: int) -> Route:
    """A body with no Content-Length, streamed: the cap must hold while reading."""
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        chunk = b"x" * 65536
        sent = 0
        try:
            while sent < size:
                h.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
            h.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
    return route


def gzip_bomb(size: int) -> Route:
    """`size` zero bytes gzipped to a few KB: small on the wire, huge when decompressed."""
    data = gzip.compress(b"\0" * size, compresslevel=9)

    def route(h: BaseHTTPRequestHandler) -> None:
        with suppress(BrokenPipeError, ConnectionResetError):
            reply(h, 200, data, headers={"Content-Encoding": "gzip"})
    return route


def json_body(h: Server, i: int) -> dict[str, Any]:
    return json.loads(h.bodies[i])
