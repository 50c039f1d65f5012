"""The one HTTP seam. Every byte newswatch reads from the network or from a local feed file comes
through `Fetcher.get`, which sets the user agent, the timeouts and the size cap; keeps to the
per-host concurrency and minimum interval and to a host's Retry-After; retries passing failures
with exponential backoff and jitter; refuses foreign schemes and addresses outside the allowed
networks, after every redirect too; and turns every outcome into a `FetchResult` with a status
from the closed set and a fixed reason. It never raises for a bad response.

DNS rebinding: a host name is resolved once per request, the addresses are checked, and the
connection goes to the checked address (the URL carries the IP; Host and, for https, SNI and
certificate checks carry the name), so no second lookup can swap in a private address.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.request import url2pathname

import httpx

from newswatch.config import FetchConfig
from tasks.models import FetchResult, FetchStatus

REDIRECTS = {301, 302, 303, 307, 308}
RETRY_STATUS = {429, 500, 502, 503, 504}  # worth another try in the same run
RETRY_REASONS = {"connect_error", "protocol_error", "transport_error"}


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


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class AddressPolicy:
    """Which resolved addresses may be contacted: public ones always; private, loopback,
    link-local, multicast and reserved ones only with allow_private_networks, and then only
    inside `allowed_networks` when that is given."""

    def __init__(self, cfg: FetchConfig) -> None:
        self.allow_private = cfg.allow_private_networks
        self.networks = [ipaddress.ip_network(n.strip(), strict=False)
                         for n in cfg.allowed_networks.split(",") if n.strip()]

    def allows(self, ip: str) -> bool:
        addr = ipaddress.ip_address(ip.split("%")[0])
        if addr.is_global and not addr.is_multicast:
            return True
        if not self.allow_private:
            return False
        return not self.networks or any(addr in n for n in self.networks)


@dataclass
class _Host:
    """Per-host politeness state for one run."""

    slots: asyncio.Semaphore
    next_at: float = 0.0  # monotonic time before which no new request may start


Result = Callable[..., FetchResult]


@dataclass(frozen=True)
class Redirect:
    code: int
    location: str


class Fetcher:
    """An async client for one run. Use as `async with Fetcher(cfg, roots) as f: await f.get()`."""

    def __init__(self, cfg: FetchConfig, local_roots: Iterable[Path] = (),
                 resolver: Callable[[str, int], list[str]] | None = None) -> None:
        self.cfg = cfg
        self.local_roots = tuple(p.resolve() for p in local_roots)
        self.policy = AddressPolicy(cfg)
        self._resolver = resolver  # tests: a fixed name → addresses table instead of DNS
        self._hosts: dict[str, _Host] = {}
        self._client: httpx.AsyncClient | None = None
        self._sockets = asyncio.Semaphore(cfg.total_concurrency)

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

    def _host(self, host: str) -> _Host:
        if host not in self._hosts:
            self._hosts[host] = _Host(asyncio.Semaphore(self.cfg.per_host_concurrency))
        return self._hosts[host]

    @contextlib.asynccontextmanager
    async def _turn(self, h: _Host) -> AsyncIterator[None]:
        """Hold one of the run's sockets from this host's next free moment, which books the
        host's next moment. Requests queue here, not in httpcore's pool: its queue is scanned
        against every connection on each change, so 2,000 queued feeds cost 11 ms of CPU each."""
        while True:
            wait = h.next_at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            async with self._sockets:
                if h.next_at <= time.monotonic():  # nobody booked the host while we waited
                    h.next_at = time.monotonic() + self.cfg.per_host_interval_s
                    yield
                    return

    def _hold(self, host: str, seconds: float) -> None:
        """A host asked us to come back later (Retry-After): nobody starts before then."""
        h = self._host(host)
        h.next_at = max(h.next_at, time.monotonic() + seconds)

    async def get(self, url: str, *, max_bytes: int, etag: str | None = None,
                  last_modified: str | None = None) -> FetchResult:
        started = time.monotonic()
        at = datetime.now(UTC)
        trail: list[str] = []
        attempts = [0]

        def result(status: FetchStatus, reason: str, **kw: object) -> FetchResult:
            ms = int((time.monotonic() - started) * 1000)
            return FetchResult(url=url, status=status, reason=reason, fetched_at=at,
                               elapsed_ms=ms, attempts=max(attempts[0], 1),
                               redirects=tuple(trail), **kw)  # type: ignore[arg-type]

        scheme = urlsplit(url).scheme.lower()
        if scheme == "file":
            return self._read_file(url, max_bytes, result)
        if scheme not in ("http", "https"):
            return result("hard", "bad_scheme")
        return await self._get_http(url, max_bytes, etag, last_modified, result, trail,
                                    attempts)

    async def _get_http(self, url: str, max_bytes: int, etag: str | None,
                        last_modified: str | None, result: Result, trail: list[str],
                        attempts: list[int]) -> FetchResult:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(self.cfg.max_redirects + 1):
            retry = 0
            while True:
                attempts[0] += 1
                r = await self._request(current, headers, max_bytes, result)
                if isinstance(r, Redirect):
                    break
                wait = self._retry_wait(r, retry)
                if wait is None:
                    return r
                await asyncio.sleep(wait)
                retry += 1
            trail.append(f"{r.code} {r.location}")
            current = r.location
        return result("hard", "too_many_redirects", final_url=current)

    def _retry_wait(self, r: FetchResult, retry: int) -> float | None:
        """Seconds to wait before retrying `r`, or None when it stands as the outcome."""
        if retry >= self.cfg.max_retries:
            return None
        if r.http_status not in RETRY_STATUS and r.reason not in RETRY_REASONS:
            return None
        if r.retry_after_s is not None:
            # The host is held until then; a longer wait than the cap is left to a later run.
            return r.retry_after_s if r.retry_after_s <= self.cfg.max_retry_after_s else None
        base = self.cfg.retry_backoff_s * (2 ** retry)
        return base * random.uniform(0.5, 1.5)  # jitter: clients must not retry in step

    async def _request(self, current: str, headers: dict[str, str], max_bytes: int,
                       result: Result) -> FetchResult | Redirect:
        """One request to `current`: its outcome, or where it redirects."""
        assert self._client is not None, "use Fetcher as an async context manager"
        parts = urlsplit(current)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return result("hard", "bad_scheme", final_url=current)
        host = parts.hostname.lower()
        try:
            async with asyncio.timeout(self.cfg.connect_timeout_s):
                ip = await self._resolve(host,
                                         parts.port or (443 if parts.scheme == "https" else 80))
        except Refused as e:
            return result("hard" if e.reason == "private_address" else "temp", e.reason,
                          final_url=current)
        except TimeoutError:
            return result("temp", "dns_error", final_url=current)  # a resolver that hangs
        h = self._host(host)
        if h.next_at - time.monotonic() > self.cfg.max_retry_after_s:
            return result("temp", "retry_after", final_url=current)  # held past this run
        extensions = {"sni_hostname": host} if parts.scheme.lower() == "https" else {}
        send_headers = {**headers, "Host": parts.netloc.rsplit("@", 1)[-1]}
        try:
            async with h.slots, self._turn(h):
                # The clock starts at the host's turn: a page queued behind its host's other
                # pages (politeness) is not late, a slow-drip body is.
                async with asyncio.timeout(self.cfg.total_timeout_s):
                    req = self._client.build_request("GET", _pin(parts, ip),
                                                     headers=send_headers, extensions=extensions)
                    resp = await self._client.send(req, stream=True)
                    try:
                        return await self._read(resp, current, host, max_bytes, result)
                    finally:
                        await resp.aclose()
        except (httpx.TimeoutException, TimeoutError):
            return result("temp", "timeout", final_url=current)
        except httpx.ConnectError:
            return result("temp", "connect_error", final_url=current)
        except httpx.DecodingError:
            return result("hard", "bad_content_encoding", final_url=current)
        except httpx.RemoteProtocolError:
            return result("temp", "protocol_error", final_url=current)
        except httpx.TransportError:
            return result("temp", "transport_error", final_url=current)

    async def _read(self, resp: httpx.Response, current: str, host: str, max_bytes: int,
                    result: Result) -> FetchResult | Redirect:
        code = resp.status_code
        if code in REDIRECTS and "location" in resp.headers:
            return Redirect(code, urljoin(current, resp.headers["location"]))
        status, reason = classify_http(code)
        hdrs = {k.lower(): v for k, v in resp.headers.items()}
        base: dict = dict(final_url=current, http_status=code, headers=hdrs)
        if status != "ok":
            wait = retry_after_s(hdrs.get("retry-after"))
            if wait is not None and code in (429, 503):
                self._hold(host, wait)
                base["retry_after_s"] = wait
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

    async def _resolve(self, host: str, port: int) -> str:
        """One lookup; every address must be allowed; return the one to connect to."""
        bare = host.strip("[]")
        try:
            ipaddress.ip_address(bare)
            addrs = [bare]
        except ValueError:
            if self._resolver is not None:
                addrs = self._resolver(host, port)
            else:
                loop = asyncio.get_running_loop()
                try:
                    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                except socket.gaierror:
                    raise Refused("dns_error") from None
                addrs = [info[4][0] for info in infos]
        if not addrs:
            raise Refused("dns_error")
        if not all(self.policy.allows(a) for a in addrs):
            raise Refused("private_address")
        return addrs[0]

    def _read_file(self, url: str, max_bytes: int, result: Result) -> FetchResult:
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


def _pin(parts, ip: str) -> str:  # type: ignore[no-untyped-def]
    """The URL with its host replaced by the checked address (the port kept)."""
    host = f"[{ip}]" if ":" in ip else ip
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
