"""Prefect's API for a run: the server PREFECT_API_URL names, or else a temporary one.

Prefect starts the same temporary server itself when no API is set, but to launch that
subprocess it imports its whole server (FastAPI, SQLAlchemy, Alembic, Docket, Redis and
asyncpg clients: ~80 MB resident, measured) into the run's own process, where nothing uses
it. Starting it here, with Prefect's own command, keeps the run's process that much smaller.
The server is started once per process, on the first run that needs it, and stopped at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

UVICORN_EXIT_PORT_IN_USE = 3  # uvicorn's exit status when its port was taken meanwhile
HEALTH_POLL_S = 0.1  # between health checks while the server starts (~8 s on 2 cores)


@dataclass(frozen=True)
class PrefectApi:
    url: str
    temporary: bool  # a server of this process's own, gone when it exits


_server: subprocess.Popen[bytes] | None = None
_url: str | None = None


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _launch(port: int) -> subprocess.Popen[bytes]:
    import prefect
    from prefect.settings import get_current_settings

    # Prefect's own temporary-server command and environment (prefect/server/api/server.py,
    # SubprocessASGIServer): no UI, ephemeral services only.
    env = {**os.environ, **get_current_settings().to_environment_variables(exclude_unset=True),
           "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
           "PREFECT__SERVER_FINAL": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
         "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "error", "--lifespan", "on"], env=env)


def _stop() -> None:
    global _server, _url
    if _server is not None:
        _server.terminate()
        try:
            _server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _server.kill()
            _server.wait()
    _server, _url = None, None


def _start_temporary() -> str:
    """Start the temporary server and wait until it answers its health check."""
    global _server, _url
    import httpx  # talks to our own loopback child, not the web: not the fetch seam's work
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    timeout = float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    port = _free_port()
    _server = _launch(port)
    atexit.register(_stop)
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            code = _server.poll()
            if code == UVICORN_EXIT_PORT_IN_USE:
                port = _free_port()
                _server = _launch(port)
                continue
            if code is not None:
                _server = None
                raise RuntimeError(f"Prefect's temporary server exited with status {code} "
                                   f"while starting; set PREFECT_API_URL to a running server")
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                    _url = f"http://127.0.0.1:{port}/api"
                    return _url
            time.sleep(HEALTH_POLL_S)
    _stop()
    raise RuntimeError(f"Prefect's temporary server did not answer within {timeout:.0f} s "
                       f"(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS); set "
                       f"PREFECT_API_URL to a running server, or raise the timeout")


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
