"""The one HTTP seam. Every byte newswatch reads from the network or from a local feed file comes
through `Fetcher.get`, which sets the user agent, the timeouts and the size cap, keeps to the
per-host concurrency, refuses private addresses and foreign schemes, follows a bounded number of
redirects (checking each hop), and turns every outcome into a `FetchResult` with a status from
the closed set and a fixed reason. It never raises for a bad response.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import httpx

from newswatch.config import FetchConfig
from tasks.models import FetchResult, FetchStatus

REDIRECTS = {301, 302, 303, 307, 308}


class Refused(Exception):
    """A destination the seam will not contact; `reason` is the fixed reason recorded."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def classify_http(code: int) -> tuple[FetchStatus, str]:
    if code == 200:
        return "ok", "http_200"
    if code == 304:
        return "not_modified", "http_304"
    if 200 <= code < 300:
        return "soft", f"http_{code}"
    if code in (408, 425, 429) or 500 <= code < 600:
        return "temp", "http_5xx" if code >= 500 else f"http_{code}"
    if code in (401, 403, 404, 410, 451):
        return "hard", f"http_{code}"
    return "hard", "http_4xx" if 400 <= code < 500 else "http_other"


def _address_ok(ip: str, allow_private: bool) -> bool:
    addr = ipaddress.ip_address(ip.split("%")[0])
    return allow_private or addr.is_global


class Fetcher:
    """An async client for one run. Use as `async with Fetcher(cfg, roots) as f: await f.get()`."""

    def __init__(self, cfg: FetchConfig, local_roots: Iterable[Path] = ()) -> None:
        self.cfg = cfg
        self.local_roots = tuple(p.resolve() for p in local_roots)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Fetcher:
        c = self.cfg
        self._client = httpx.AsyncClient(
            headers={"User-Agent": c.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(
                connect=c.connect_timeout_s, read=c.read_timeout_s,
                write=c.read_timeout_s, pool=c.total_timeout_s,
            ),
            limits=httpx.Limits(max_connections=c.total_concurrency),
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment may route around the guard
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client:
            await self._client.aclose()

    def _host_slot(self, host: str) -> asyncio.Semaphore:
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self.cfg.per_host_concurrency)
        return self._hosts[host]

    async def get(self, url: str, *, max_bytes: int, etag: str | None = None,
                  last_modified: str | None = None) -> FetchResult:
        started = time.monotonic()
        at = datetime.now(UTC)

        def result(status: FetchStatus, reason: str, **kw: object) -> FetchResult:
            ms = int((time.monotonic() - started) * 1000)
            return FetchResult(url=url, status=status, reason=reason, fetched_at=at,
                               elapsed_ms=ms, **kw)  # type: ignore[arg-type]

        scheme = urlsplit(url).scheme.lower()
        if scheme == "file":
            return self._read_file(url, max_bytes, result)
        if scheme not in ("http", "https"):
            return result("hard", "bad_scheme")
        try:
            async with asyncio.timeout(self.cfg.total_timeout_s):
                return await self._get_http(url, max_bytes, etag, last_modified, result)
        except TimeoutError:
            return result("temp", "timeout")

    async def _get_http(self, url: str, max_bytes: int, etag: str | None,
                        last_modified: str | None, result) -> FetchResult:  # type: ignore[no-untyped-def]
        assert self._client is not None, "use Fetcher as an async context manager"
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(self.cfg.max_redirects + 1):
            parts = urlsplit(current)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                return result("hard", "bad_scheme", final_url=current)
            try:
                await self._guard(parts.hostname, parts.port or 0)
            except Refused as e:
                return result("hard" if e.reason == "private_address" else "temp", e.reason,
                              final_url=current)
            try:
                async with self._host_slot(parts.hostname.lower()):
                    req = self._client.build_request("GET", current, headers=headers)
                    resp = await self._client.send(req, stream=True)
                    try:
                        if resp.status_code in REDIRECTS and "location" in resp.headers:
                            current = urljoin(current, resp.headers["location"])
                            continue
                        status, reason = classify_http(resp.status_code)
                        hdrs = {k.lower(): v for k, v in resp.headers.items()}
                        base = dict(final_url=current, http_status=resp.status_code, headers=hdrs)
                        if status != "ok":
                            return result(status, reason, **base)
                        declared = resp.headers.get("content-length", "")
                        if declared.isdigit() and int(declared) > max_bytes:
                            return result("hard", "too_large", **base)
                        body = bytearray()
                        async for chunk in resp.aiter_bytes():  # decompressed: caps gzip bombs
                            body += chunk
                            if len(body) > max_bytes:
                                return result("hard", "too_large", **base)
                        return result("ok", reason, body=bytes(body), **base)
                    finally:
                        await resp.aclose()
            except httpx.TimeoutException:
                return result("temp", "timeout", final_url=current)
            except httpx.ConnectError:
                return result("temp", "connect_error", final_url=current)
            except httpx.DecodingError:
                return result("hard", "bad_content_encoding", final_url=current)
            except httpx.RemoteProtocolError:
                return result("temp", "protocol_error", final_url=current)
            except httpx.TransportError:
                return result("temp", "transport_error", final_url=current)
        return result("hard", "too_many_redirects", final_url=current)

    async def _guard(self, host: str, port: int) -> None:
        """Refuse hosts that resolve to loopback, private, link-local or reserved addresses."""
        try:
            ipaddress.ip_address(host.strip("[]"))
            addrs = [host.strip("[]")]
        except ValueError:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, port or None, type=socket.SOCK_STREAM)
            except socket.gaierror:
                raise Refused("dns_error") from None
            addrs = [info[4][0] for info in infos]
        if not all(_address_ok(a, self.cfg.allow_private_networks) for a in addrs):
            raise Refused("private_address")

    def _read_file(self, url: str, max_bytes: int, result) -> FetchResult:  # type: ignore[no-untyped-def]
        path = Path(url2pathname(urlsplit(url).path)).resolve()
        if not any(path.is_relative_to(root) for root in self.local_roots):
            return result("hard", "file_not_allowed", final_url=url)
        try:
            size = path.stat().st_size
            if size > max_bytes:
                return result("hard", "too_large", final_url=url)
            body = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return result("hard", "file_not_found", final_url=url)
        except PermissionError:
            return result("hard", "file_unreadable", final_url=url)
        return result("ok", "file_read", final_url=url, body=body)
