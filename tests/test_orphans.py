"""`kill -9` of `newswatch run` leaves nothing behind: the temporary Prefect server it started
is found and ended by the watchdog (newswatch/orphans.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from newswatch import orphans
from tests import servers
from tests.conftest import ROOT, write_config

SERVER_APP = b"prefect.server.api.server:create_app"


def cmdline(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"


def wait_for(pred, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_kill_9_of_a_run_leaves_no_prefect_server_behind(tmp_path: Path) -> None:
    with servers.static_site(tmp_path) as site:
        site.routes["/feed.xml"] = servers.slow(30)  # the run is busy when it is killed
        cfg = write_config(tmp_path, [{"name": "slow", "url": f"{site.url}/feed.xml"}])
        env = {k: v for k, v in os.environ.items()
               if k not in ("PREFECT_API_URL", orphans.MARKER)}
        env.setdefault("PREFECT_HOME", str(tmp_path / "prefect-home"))
        run = subprocess.Popen([sys.executable, "-m", "newswatch.cli", "--config", str(cfg),
                                "run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        pid = 0
        try:
            def server() -> int | None:
                for pid in orphans._descendants(run.pid):
                    if SERVER_APP in cmdline(pid):
                        return pid
                return None

            pid = wait_for(server, 120, "the temporary Prefect server to start")
            args = cmdline(pid)
            port = args[args.index(b"--port") + 1].decode()

            def healthy() -> bool:
                try:
                    return httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(healthy, 120, "the temporary server to answer")
            watchdog = [p for p in orphans._descendants(run.pid) if b"newswatch.orphans" in
                        cmdline(p)]
            assert run.poll() is None, "the run ended before it could be killed"
            os.kill(run.pid, signal.SIGKILL)
            run.wait()
            wait_for(lambda: not alive(pid), 15, f"the server (pid {pid}) to end")
            wait_for(lambda: not any(alive(p) for p in watchdog), 15, "the watchdog to exit")
            assert not healthy()
        finally:
            if run.poll() is None:
                run.kill()
            if pid and alive(pid):  # the test failed: leave no orphan behind ourselves
                os.kill(pid, signal.SIGKILL)
