"""Prefect's API for a run: the server PREFECT_API_URL names, or else a temporary one.

With no API set, Prefect would start its temporary server as a second Python process (uvicorn):
~230 MB resident of its own, importing again what the run has already imported (Prefect,
pydantic, httpx…), 5-6 s to start. Here the same server (Prefect's app, ephemeral: no UI, only
its event services) runs in a thread of the run's own process instead: the process tree is ~110 MB
smaller (measured: the run's process grows ~120 MB, the second process is gone) and the server
answers in ~2 s. A `kill -9` of the run ends it with the run: there is no second process to
leave behind. The server is started once per process, on the first run that needs it, and
stopped as the process exits, before the interpreter's thread pools close (see `_at_exit`).
"""

from __future__ import annotations

import atexit
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

STARTED_POLL_S = 0.05  # between checks while the server starts (~2 s on 2 cores)
STOP_WAIT_S = 5.0  # for the server's shutdown (open requests, its database) at exit

# When the server stops. An `atexit` function runs after the interpreter has closed its thread
# pools to new work; the server's task worker (docket) then polls its queue through
# `asyncio.to_thread`, which fails at once, takes the failure for an empty queue and polls
# again without ever yielding: its event loop never got to shut the server down, and each run
# spent the whole STOP_WAIT_S at 100 % of a core before it exited (6.6 s from a run's last
# line to its exit, against 1.5). CPython's hook for "just before the pools close" (which
# concurrent.futures uses; plain atexit where it is missing) stops it in ~0.2 s. Prefect's own
# services, which send the run's last states here, drain on the same hook: registered after
# the server started, they run before it stops.
_at_exit = getattr(threading, "_register_atexit", atexit.register)


@dataclass(frozen=True)
class PrefectApi:
    url: str
    temporary: bool  # a server of this process's own, gone when it exits


_server: Any = None  # uvicorn.Server
_thread: threading.Thread | None = None
_url: str | None = None


def _stop() -> None:
    global _server, _thread, _url
    if _server is not None and _thread is not None:
        _server.should_exit = True
        _thread.join(STOP_WAIT_S)
    _server, _thread, _url = None, None, None


def _start_temporary() -> str:
    """Start the temporary server in a thread and wait until it has started."""
    global _server, _thread, _url
    import uvicorn
    from prefect.server.api.server import create_app
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    timeout = float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    # Bound here, before the server starts: no other process can take the port meanwhile.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    # Prefect's own temporary-server app: ephemeral (no UI, event services only), the only one
    # this process creates (final: Prefect frees the routers' copies).
    app = create_app(ephemeral=True, final=True)
    _server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="on"))
    _thread = threading.Thread(target=_server.run, kwargs={"sockets": [sock]},
                               name="prefect-server", daemon=True)
    _thread.start()
    _at_exit(_stop)
    deadline = time.monotonic() + timeout
    while not _server.started:
        stopped, late = not _thread.is_alive(), time.monotonic() > deadline
        if stopped or late:
            _stop()
            sock.close()
            raise RuntimeError(
                "Prefect's temporary server stopped while starting; set PREFECT_API_URL to a "
                "running server" if stopped else
                f"Prefect's temporary server did not start within {timeout:.0f} s "
                f"(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS); set PREFECT_API_URL to a "
                f"running server, or raise the timeout")
        time.sleep(STARTED_POLL_S)
    _url = f"http://127.0.0.1:{port}/api"
    return _url


@contextlib.contextmanager
def prefect_api() -> Iterator[PrefectApi]:
    """Run flows inside this: they report to PREFECT_API_URL, or to this process's temporary
    server (started on first use)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configured = PREFECT_API_URL.value()
    if configured:
        yield PrefectApi(configured, temporary=False)
        return
    url = _url or _start_temporary()
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield PrefectApi(url, temporary=True)
