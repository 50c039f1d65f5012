"""`kill -9` of `newswatch run` leaves nothing behind: the temporary Prefect server (a thread of
the run, flows/prefect_api.py) ends with it, and so does the watchdog that ends whatever else
the run started (newswatch/orphans.py)."""

from __future__ import annotations

import contextlib
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


def listening_ports(pid: int) -> set[int]:
    """The TCP ports a process listens on (its socket inodes matched in /proc/net/tcp)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if f[3] == "0A" and f[9] in inodes:  # 0A: LISTEN
            ports.add(int(f[1].split(":")[1], 16))
    return ports


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
def test_kill_9_of_a_run_leaves_nothing_behind(tmp_path: Path) -> None:
    with servers.static_site(tmp_path) as site:
        site.routes["/feed.xml"] = servers.slow(30)  # the run is busy when it is killed
        cfg = write_config(tmp_path, [{"name": "slow", "url": f"{site.url}/feed.xml"}])
        env = {k: v for k, v in os.environ.items()
               if k not in ("PREFECT_API_URL", orphans.MARKER)}
        env.setdefault("PREFECT_HOME", str(tmp_path / "prefect-home"))
        run = subprocess.Popen([sys.executable, "-m", "newswatch.cli", "--config", str(cfg),
                                "run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        left: list[int] = []
        try:
            # The temporary server listens in the run's own process.
            (port,) = wait_for(lambda: listening_ports(run.pid), 120,
                               "the temporary Prefect server to listen")

            def healthy() -> bool:
                try:
                    return httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(healthy, 120, "the temporary server to answer")
            left = list(orphans._descendants(run.pid))
            assert [b"newswatch.orphans" in cmdline(p) for p in left] == [True]  # the watchdog
            assert run.poll() is None, "the run ended before it could be killed"
            os.kill(run.pid, signal.SIGKILL)
            run.wait()
            wait_for(lambda: not any(alive(p) for p in left), 15, "the watchdog to exit")
            assert not healthy()
        finally:
            if run.poll() is None:
                run.kill()
            for p in left:  # the test failed: leave no orphan behind ourselves
                if alive(p):
                    os.kill(p, signal.SIGKILL)
