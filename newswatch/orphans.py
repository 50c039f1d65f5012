"""No orphans: whatever a newswatch command starts (extraction workers, a Dask cluster) dies
with it, `kill -9` included. (Prefect's temporary server is a thread of the command itself:
flows/prefect_api.py.)

`watch()` is called once at CLI start. It starts a small watchdog process (`python -m
newswatch.orphans`) whose stdin is the read end of a pipe only the CLI holds open: when the
CLI ends, however it ends, the kernel closes that end and the watchdog reads EOF. The watchdog
then ends every process the CLI started, SIGTERM first (uvicorn shuts down cleanly) and SIGKILL
after a grace period. It finds them two ways, so neither alone has to be perfect:
- a marker: `watch()` puts NEWSWATCH_OWNER=<pid>:<start time> in the CLI's environment, and
  every child inherits it (Prefect starts its server with a copy of os.environ), so after the
  CLI's death the watchdog finds them in /proc/*/environ though they now have parent 1;
- the process tree, snapshotted every second while the CLI lives, for a child that scrubbed
  its environment.
A process is only signalled if its start time is the one recorded or it carries the marker, so
a reused pid is never hit.

Why not the alternatives: a parent-death signal (prctl PR_SET_PDEATHSIG) must be set by each
child itself, in code we do not own (Prefect's Popen); killing the process group would also
kill whatever shares the CLI's group (`newswatch run | tee log`, the calling script), and
moving the CLI to a group of its own takes it out of the terminal's Ctrl-C. Linux only (/proc):
elsewhere `watch()` does nothing.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

MARKER = "NEWSWATCH_OWNER"
SNAPSHOT_S = 1.0  # how often the live process tree is noted; the marker covers the gap
GRACE_S = 5.0  # uvicorn needs ~1 s to shut down; then SIGKILL
COMMANDS = frozenset({"run", "serve", "digest", "maintain"})  # the ones that start Prefect

_watchdog: subprocess.Popen[bytes] | None = None


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time in clock ticks since boot), None when gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rindex(b")") + 2:].split()  # the name may hold spaces and parentheses
    return int(fields[1]), int(fields[19])


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _marked(pid: int, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def _descendants(root: int) -> dict[int, int]:
    """pid → start time of every living descendant of `root`."""
    stats = {p: s for p in _pids() if (s := _stat(p))}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = {}, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        out[pid] = stats[pid][1]
        todo += children.get(pid, [])
    return out


def _survivors(known: dict[int, int], marker: bytes) -> dict[int, int]:
    me = os.getpid()
    out = {}
    for pid in _pids():
        if pid == me:
            continue
        s = _stat(pid)
        if s and (known.get(pid) == s[1] or _marked(pid, marker)):
            out[pid] = s[1]
    return out


def _end(victims: dict[int, int], marker: bytes) -> None:
    for sig, wait_s in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, 0.0)):
        for pid in victims:
            try:
                os.kill(pid, sig)
            except OSError:  # gone already, or not ours to signal
                continue
        deadline = time.monotonic() + wait_s
        while victims and time.monotonic() < deadline:
            time.sleep(0.1)
            victims = _survivors(victims, marker)
        if not victims:
            return
        victims = _survivors(victims, marker)


def run_watchdog(owner: int, marker: str) -> None:
    """Wait for EOF on stdin (the owner is gone), then end what it left behind."""
    os.setsid()  # out of the CLI's group and terminal: a Ctrl-C there must not end us first
    known: dict[int, int] = {}
    fd = sys.stdin.fileno()
    while True:
        ready, _, _ = select.select([fd], [], [], SNAPSHOT_S)
        if ready and not os.read(fd, 1024):
            break
        known.update(_descendants(owner))
    me = os.getpid()
    known.pop(me, None)
    _end(_survivors(known, marker.encode()), marker.encode())


def watch() -> None:
    """Start the watchdog for this process (once; Linux only)."""
    global _watchdog
    if _watchdog is not None or not Path("/proc/self/stat").exists():
        return
    me = os.getpid()
    stat = _stat(me)
    if stat is None:
        return
    marker = f"{MARKER}={me}:{stat[1]}"
    os.environ[MARKER] = marker.split("=", 1)[1]
    read_end, write_end = os.pipe()  # both non-inheritable (PEP 446): only we hold the write end
    _watchdog = subprocess.Popen(
        [sys.executable, "-m", "newswatch.orphans", str(me), marker], stdin=read_end,
        stdout=subprocess.DEVNULL, close_fds=True)
    os.close(read_end)
    _keep.append(write_end)  # never written, never closed: it closes when this process ends


_keep: list[int] = []


if __name__ == "__main__":
    run_watchdog(int(sys.argv[1]), sys.argv[2])
