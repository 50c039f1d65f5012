"""The HTTP seam against real servers on 127.0.0.1: each bad behaviour gives its status and
reason, and nothing raises."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from newswatch.config import FetchConfig
from tasks.http import Fetcher, classify_http
from tests import servers
from tests.conftest import FIXTURE

LOOPBACK = FetchConfig(allow_private_networks=True, allowed_networks="127.0.0.0/8",
                       connect_timeout_s=2, read_timeout_s=0.5, total_timeout_s=3,
                       max_redirects=3, per_host_interval_s=0.0, max_retries=0)


def get(url: str, cfg: FetchConfig = LOOPBACK, max_bytes: int = 100_000,
        roots: tuple[Path, ...] = (), **kw: str):
    async def go():
        async with Fetcher(cfg, roots) as f:
            return await f.get(url, max_bytes=max_bytes, **kw)
    return asyncio.run(go())


@pytest.fixture
def web(tmp_path: Path):
    (tmp_path / "ok.html").write_text("<p>hello</p>", encoding="utf-8")
    with servers.static_site(tmp_path) as s:
        yield s


def test_ok_keeps_body_headers_and_user_agent(web: servers.Server) -> None:
    r = get(f"{web.url}/ok.html")
    assert (r.status, r.reason, r.http_status, r.body) == ("ok", "http_200", 200, b"<p>hello</p>")
    assert r.headers["content-type"] == "text/html"
    assert web.requests[0][2]["User-Agent"] == LOOPBACK.user_agent


@pytest.mark.parametrize(("code", "status", "reason"), [
    (500, "temp", "http_5xx"), (503, "temp", "http_5xx"), (429, "temp", "http_429"),
    (404, "hard", "http_404"), (410, "hard", "http_410"), (403, "hard", "http_403"),
    (400, "hard", "http_4xx"), (204, "soft", "http_204"),
])
def test_http_errors(web: servers.Server, code: int, status: str, reason: str) -> None:
    web.routes["/e"] = servers.status(code)
    r = get(f"{web.url}/e")
    assert (r.status, r.reason, r.http_status, r.body) == (status, reason, code, b"")


def test_classify_covers_304() -> None:
    assert classify_http(304) == ("not_modified", "http_304")


def test_conditional_get_sends_validators(web: servers.Server) -> None:
    web.routes["/feed"] = servers.status(304)
    r = get(f"{web.url}/feed", etag='"abc"', last_modified="Sun, 09 Feb 2025 10:00:00 GMT")
    assert (r.status, r.reason) == ("not_modified", "http_304")
    headers = web.requests[0][2]
    assert headers["If-None-Match"] == '"abc"'
    assert headers["If-Modified-Since"] == "Sun, 09 Feb 2025 10:00:00 GMT"


def test_read_timeout(web: servers.Server) -> None:
    web.routes["/slow"] = servers.slow(1.5)
    r = get(f"{web.url}/slow")
    assert (r.status, r.reason) == ("temp", "timeout")


def test_connection_refused() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    r = get(f"http://127.0.0.1:{port}/x")
    assert (r.status, r.reason) == ("temp", "connect_error")


def test_declared_size_over_cap(web: servers.Server) -> None:
    web.routes["/big"] = servers.body(b"x" * 200_000)
    r = get(f"{web.url}/big")
    assert (r.status, r.reason, r.body) == ("hard", "too_large", b"")


def test_streamed_size_over_cap(web: servers.Server) -> None:
    web.routes["/stream"] = servers.chunked(5_000_000)
    r = get(f"{web.url}/stream")
    assert (r.status, r.reason, r.body) == ("hard", "too_large", b"")


def test_gzip_bomb_stops_at_the_cap(web: servers.Server) -> None:
    web.routes["/bomb"] = servers.gzip_bomb(50_000_000)  # ~50 KB on the wire
    r = get(f"{web.url}/bomb")
    assert (r.status, r.reason, r.body) == ("hard", "too_large", b"")


def test_redirect_followed_and_final_url_kept(web: servers.Server) -> None:
    web.routes["/old"] = servers.redirect("/ok.html")
    r = get(f"{web.url}/old")
    assert (r.status, r.final_url, r.body) == ("ok", f"{web.url}/ok.html", b"<p>hello</p>")


def test_redirect_loop(web: servers.Server) -> None:
    web.routes["/a"] = servers.redirect("/b")
    web.routes["/b"] = servers.redirect("/a")
    r = get(f"{web.url}/a")
    assert (r.status, r.reason) == ("hard", "too_many_redirects")
    assert len(web.requests) == 4  # max_redirects 3: the first request and three hops


def test_redirect_to_another_scheme_is_refused(web: servers.Server) -> None:
    web.routes["/r"] = servers.redirect("ftp://127.0.0.1/x")
    r = get(f"{web.url}/r")
    assert (r.status, r.reason, r.final_url) == ("hard", "bad_scheme", "ftp://127.0.0.1/x")


def test_private_addresses_refused_by_default(web: servers.Server) -> None:
    strict = replace(LOOPBACK, allow_private_networks=False)
    for url in (f"{web.url}/ok.html", "http://localhost:9/x", "http://[::1]:9/x",
                "http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data/"):
        r = get(url, strict)
        assert (r.status, r.reason) == ("hard", "private_address"), url
    assert web.requests == []  # refused before any connection


@pytest.mark.parametrize("url", ["ftp://example.com/feed", "gopher://x/", "javascript:alert(1)",
                                 "data:text/html,hi"])
def test_other_schemes_refused(url: str) -> None:
    r = get(url)
    assert (r.status, r.reason) == ("hard", "bad_scheme")


def test_file_urls_only_under_local_roots(tmp_path: Path) -> None:
    feed = FIXTURE / "feeds" / "capital-wire.xml"
    ok = get(feed.as_uri(), roots=(FIXTURE,), max_bytes=1_000_000)
    assert (ok.status, ok.reason, ok.body) == ("ok", "file_read", feed.read_bytes())
    outside = get(Path("/etc/passwd").as_uri(), roots=(FIXTURE,))
    assert (outside.status, outside.reason, outside.body) == ("hard", "file_not_allowed", b"")
    sneaky = get(f"{FIXTURE.as_uri()}/../../pyproject.toml", roots=(FIXTURE,))
    assert (sneaky.status, sneaky.reason) == ("hard", "file_not_allowed")
    missing = get(f"{FIXTURE.as_uri()}/feeds/nope.xml", roots=(FIXTURE,))
    assert (missing.status, missing.reason) == ("hard", "file_not_found")
    none = get(feed.as_uri(), roots=())
    assert (none.status, none.reason) == ("hard", "file_not_allowed")


def counting_route(seconds: float, on_enter: Callable[[], None] = lambda: None):
    """A route that answers "ok" after `seconds`, and the most requests it had open at once;
    `on_enter` runs as each request arrives."""
    active, peak, lock = [0], [0], threading.Lock()

    def route(h):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            on_enter()
        time.sleep(seconds)
        with lock:
            active[0] -= 1
        servers.reply(h, 200, b"ok")

    return route, peak


def test_per_host_concurrency_is_kept(web: servers.Server) -> None:
    """Ten slow requests to one host never have more than two open at once."""
    web.routes["/p"], peak = counting_route(0.1)

    async def go():
        async with Fetcher(LOOPBACK) as f:
            return await asyncio.gather(*(f.get(f"{web.url}/p", max_bytes=100) for _ in range(10)))

    results = asyncio.run(go())
    assert [r.status for r in results] == ["ok"] * 10
    assert peak[0] == 2


def test_requests_queue_in_the_seam_not_in_the_connection_pool(web: servers.Server) -> None:
    """Forty requests over four hosts with three sockets: three open at once, and httpcore's
    pool never holds more than three requests. Queued in its pool, each change rescanned every
    waiting request against every connection: 2,000 feeds cost 11 ms of CPU each, not 1."""
    pooled: list[int] = [0]
    fetcher: list[Fetcher] = []

    def sample_pool() -> None:
        pool = fetcher[0]._client._transport._pool  # type: ignore[union-attr]
        pooled[0] = max(pooled[0], len(pool._requests))

    web.routes["/p"], peak = counting_route(0.05, sample_pool)
    cfg = replace(LOOPBACK, total_concurrency=3)
    port = web.url.rsplit(":", 1)[1]

    async def go():
        async with Fetcher(cfg, resolver=lambda host, port: ["127.0.0.1"]) as f:
            fetcher.append(f)
            return await asyncio.gather(*(f.get(f"http://h{i % 4}.test:{port}/p", max_bytes=100)
                                          for i in range(40)))

    results = asyncio.run(go())
    assert [r.status for r in results] == ["ok"] * 40
    assert (peak[0], pooled[0]) == (3, 3)


def test_the_total_timeout_starts_at_the_hosts_turn(web: servers.Server) -> None:
    """Twelve pages of one host, 0.1 s apart, take ~1.1 s; with a total timeout of 0.4 s each
    is fetched, because the wait for the host's turn (politeness) does not count. Counted from
    the call, every page queued past 0.4 s timed out: at the defaults (0.25 s apart, 60 s), a
    host's pages past the 240th of a run, or fewer behind a slow host or a Retry-After."""
    web.routes["/p"], _ = counting_route(0.02)
    cfg = replace(LOOPBACK, total_timeout_s=0.4, per_host_interval_s=0.1)

    async def go():
        async with Fetcher(cfg) as f:
            return await asyncio.gather(*(f.get(f"{web.url}/p", max_bytes=100) for _ in range(12)))

    results = asyncio.run(go())
    assert [(r.status, r.reason) for r in results] == [("ok", "http_200")] * 12
    assert max(r.elapsed_ms for r in results) >= 1000
