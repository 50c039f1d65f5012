"""Fuzz one target for a while: `python bench/fuzz.py TARGET --seconds N`.

Targets and their inputs are in tests/fuzz_targets.py (feed, page, query, config, feeds-file,
topics-file, opml); seeds come from the repo and, with NEWSWATCH_CORPUS set, the shared corpus.
Hypothesis generates and mutates inputs in rounds with fresh seeds until the time is up. A
crash is an exception other than our documented error types, an input that runs over 5 s, or
one that leaves the process over 1 GB resident. Each crash is shrunk by hypothesis and printed
with its minimal input (save it as a fixture test); the run goes on and prints a summary:

    target  inputs  seconds  inputs/s  crashes
"""

from __future__ import annotations

import argparse
import random
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, seed, settings

from tests.fuzz_targets import TARGETS

HANG_S = 5.0
MAX_RSS = 1 << 30
ROUND = 500  # examples per hypothesis round; each round starts from a fresh random seed


class Hang(Exception):
    """An input took longer than HANG_S."""


class MemoryHog(Exception):
    """An input left the process above MAX_RSS resident."""


def _rss() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize()


def _alarm(signum: int, frame: object) -> None:
    raise Hang(f"input ran over {HANG_S:g} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", choices=sorted(TARGETS))
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    target = TARGETS[args.target]
    strategy = target.strategy()
    target.check(target.warm)  # imports happen here, not inside the first timed input
    signal.signal(signal.SIGALRM, _alarm)
    count = 0
    crashes: dict[str, str] = {}

    def one(data: object) -> None:
        nonlocal count
        count += 1
        signal.setitimer(signal.ITIMER_REAL, HANG_S)
        try:
            target.check(data)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if _rss() > MAX_RSS:
            raise MemoryHog(f"{_rss() >> 20} MB resident after this input")

    started = time.monotonic()
    while time.monotonic() - started < args.seconds:
        run = seed(random.getrandbits(64))(settings(
            max_examples=ROUND, deadline=None, database=None,
            suppress_health_check=list(HealthCheck))(given(strategy)(one)))
        try:
            run()
        except Exception as e:  # a crash: report it and fuzz on
            where = traceback.extract_tb(e.__traceback__)[-1]
            key = f"{type(e).__name__} at {where.filename}:{where.lineno}"
            if key not in crashes:
                crashes[key] = "".join(traceback.format_exception(e))
                print(f"CRASH {key}\n{crashes[key]}", flush=True)
    seconds = time.monotonic() - started
    print("target  inputs  seconds  inputs/s  crashes")
    print(f"{args.target}  {count}  {seconds:.0f}  {count / seconds:.0f}  {len(crashes)}")
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
